// Asio and Beast compiled once for the whole library (BOOST_ASIO_SEPARATE_COMPILATION
// and BOOST_BEAST_SEPARATE_COMPILATION are defined for every target). Asio's SSL is
// compiled in the Redis client's library (redis/asio_ssl_impl.cpp): no OpenSSL here.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
