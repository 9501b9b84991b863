#include "util/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <ctime>
#include <frontmcp/logging.hpp>
#include <memory>
#include <mutex>
#include <vector>

#include "util/log_escape.hpp"

namespace frontmcp::util {

namespace {

std::atomic<bool> g_json{false};
std::mutex g_node_mu;
std::string g_node;  // guarded by g_node_mu

/// Fields of the log_event() call running on this thread (the logger is synchronous, so
/// the formatter runs inside that call, on the same thread).
thread_local const std::initializer_list<LogField>* t_fields = nullptr;

void append_key(std::string& out, std::string_view key) {
  out.push_back(',');
  append_json_string(out, key);
  out.push_back(':');
}

/// One JSON object per line: {"ts","level","node","msg",<fields>}.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto tp = msg.time;
    auto secs = std::chrono::system_clock::to_time_t(tp);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count() % 1000;
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char ts[32];
    auto n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(ts + n, sizeof ts - n, ".%03dZ", static_cast<int>(ms));
    std::string line = R"({"ts":")";
    line += ts;
    line.push_back('"');
    append_key(line, "level");
    auto lv = spdlog::level::to_string_view(msg.level);
    append_json_string(line, std::string_view(lv.data(), lv.size()));
    {
      std::lock_guard lock(g_node_mu);
      if (!g_node.empty()) {
        append_key(line, "node");
        append_json_string(line, g_node);
      }
    }
    append_key(line, "msg");
    append_json_string(line, std::string_view(msg.payload.data(), msg.payload.size()));
    if (t_fields) {
      for (const auto& f : *t_fields) {
        if (f.value.empty()) continue;
        append_key(line, f.key);
        append_json_string(line, f.value);
      }
    }
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

/// spdlog's default pattern, with the message escaped (util/log_escape.hpp): a value
/// from a client cannot start a line of its own or reach the terminal as a control.
class EscapingTextFormatter final : public spdlog::formatter {
 public:
  EscapingTextFormatter() : inner_(std::make_unique<spdlog::pattern_formatter>()) {}
  explicit EscapingTextFormatter(std::unique_ptr<spdlog::formatter> inner) : inner_(std::move(inner)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string_view payload(msg.payload.data(), msg.payload.size());
    if (!needs_log_escape(payload)) {
      inner_->format(msg, dest);
      return;
    }
    std::string escaped = escape_log_text(payload);
    spdlog::details::log_msg copy(msg);
    copy.payload = spdlog::string_view_t(escaped.data(), escaped.size());
    inner_->format(copy, dest);
    // The colour sinks read the level's position from the message they passed in.
    msg.color_range_start = copy.color_range_start;
    msg.color_range_end = copy.color_range_end;
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<EscapingTextFormatter>(inner_->clone());
  }

 private:
  std::unique_ptr<spdlog::formatter> inner_;
};

}  // namespace

spdlog::logger& log() {
  // Looked up each time (a map lookup under spdlog's registry lock would be too much on
  // hot paths, so the pointer is cached, and configure_logging() swaps the logger in
  // place instead of replacing the object).
  static std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("frontmcp")) return existing;
    auto created = spdlog::stderr_color_mt("frontmcp");
    created->set_formatter(std::make_unique<EscapingTextFormatter>());
    return created;
  }();
  return *logger;
}

void log_escaped(std::exception_ptr e, const char* what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log().error("{} failed: {}", what, ex.what());
  } catch (...) {
    log().error("{} failed with a non-standard exception", what);
  }
}

void log_event(spdlog::level::level_enum level, std::string_view msg, std::initializer_list<LogField> fields) {
  auto& l = log();
  if (!l.should_log(level)) return;
  if (g_json.load(std::memory_order_relaxed)) {
    t_fields = &fields;
    l.log(level, "{}", msg);
    t_fields = nullptr;
    return;
  }
  std::string line(msg);
  for (const auto& f : fields) {
    if (!f.value.empty()) append_log_field(line, f.key, f.value);
  }
  l.log(level, "{}", line);
}

void set_log_node(std::string node_id) {
  std::lock_guard lock(g_node_mu);
  g_node = std::move(node_id);
}

}  // namespace frontmcp::util

namespace frontmcp {

void configure_logging(LogFormat format, std::string_view level) {
  auto& l = util::log();
  util::g_json.store(format == LogFormat::json);
  if (format == LogFormat::json) {
    l.set_formatter(std::make_unique<util::JsonFormatter>());
  } else {
    l.set_formatter(std::make_unique<util::EscapingTextFormatter>());
  }
  l.set_level(spdlog::level::from_str(std::string(level)));
}

}  // namespace frontmcp
