#include "redis/resp.hpp"

#include <hiredis/hiredis.h>

#include <memory>
#include <new>
#include <stdexcept>

#include "util/decimal.hpp"

namespace frontmcp::redis {

ErrorKind error_kind_of(std::string_view text) noexcept {
  auto word = text.substr(0, text.find(' '));
  if (word == "NOSCRIPT") return ErrorKind::noscript;
  if (word == "WRONGTYPE") return ErrorKind::wrongtype;
  return ErrorKind::other;
}

namespace {
void append_header(std::string& out, char kind, std::size_t n) {
  out.push_back(kind);
  util::append_decimal(out, n);
  out.append("\r\n", 2);
}
}  // namespace

void append_command(std::string& out, const Command& cmd) {
  std::size_t size = 16;
  for (const auto& arg : cmd) size += arg.size() + 16;
  out.reserve(out.size() + size);
  append_header(out, '*', cmd.size());
  for (const auto& arg : cmd) {
    append_header(out, '$', arg.size());
    out.append(arg);
    out.append("\r\n", 2);
  }
}

namespace detail {

namespace {
Error protocol_error(const char* what) {
  return Error{errc::kServerError, std::string("protocol error: ") + what, {}};
}

Reply convert(const redisReply& r) {
  Reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::string;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::status;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::error;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::integer;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      out.elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(convert(*r.element[i]));
      break;
    default:  // REDIS_REPLY_NIL
      out.type = Reply::Type::nil;
      break;
  }
  return out;
}

struct FreeReply {
  void operator()(void* r) const noexcept { freeReplyObject(r); }
};
}  // namespace

ReplyReader::ReplyReader() : reader_(redisReaderCreate()) {
  if (reader_ == nullptr) throw std::bad_alloc();
}

ReplyReader::~ReplyReader() {
  redisReaderFree(reader_);
}

Status ReplyReader::feed(const char* data, std::size_t size) {
  if (redisReaderFeed(reader_, data, size) != REDIS_OK) return protocol_error(reader_->errstr);
  return Ok{};
}

Result<std::optional<Reply>> ReplyReader::next() {
  void* raw = nullptr;
  if (redisReaderGetReply(reader_, &raw) != REDIS_OK) return protocol_error(reader_->errstr);
  if (raw == nullptr) return std::optional<Reply>();
  std::unique_ptr<void, FreeReply> owned(raw);
  return std::optional<Reply>(convert(*static_cast<const redisReply*>(raw)));
}

}  // namespace detail
}  // namespace frontmcp::redis
