// Asio's SSL (rediss://) compiled once, in the Redis client's library: the core library
// (BOOST_ASIO_SEPARATE_COMPILATION, http/asio_impl.cpp) has no OpenSSL in it.
#include <boost/asio/ssl/impl/src.hpp>
