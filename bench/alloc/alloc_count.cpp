// LD_PRELOAD shim for bench/count_allocs.sh: counts malloc/calloc/realloc/aligned calls
// of the process it is loaded into. On SIGUSR2 it appends the count so far, one decimal
// line, to the file named by $ALLOC_COUNT_FILE. A benchmark tool, not part of the library.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
}

namespace {
std::atomic<unsigned long long> g_count{0};
int g_fd = -1;

// Async-signal-safe: formats by hand and write()s.
void on_usr2(int) {
  char buf[32];
  char* end = buf + sizeof buf;
  char* p = end;
  *--p = '\n';
  unsigned long long v = g_count.load(std::memory_order_relaxed);
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  if (g_fd >= 0) {
    ssize_t ignored = ::write(g_fd, p, static_cast<std::size_t>(end - p));
    (void)ignored;
  }
}

struct Init {
  Init() {
    if (const char* f = std::getenv("ALLOC_COUNT_FILE"))
      g_fd = ::open(f, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR2, &sa, nullptr);
  }
} g_init;
}  // namespace

extern "C" {
void* malloc(std::size_t n) {
  g_count.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
void* calloc(std::size_t a, std::size_t b) {
  g_count.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(a, b);
}
void* realloc(void* p, std::size_t n) {
  g_count.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
int posix_memalign(void** out, std::size_t align, std::size_t n) {
  g_count.fetch_add(1, std::memory_order_relaxed);
  void* p = __libc_memalign(align, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void* aligned_alloc(std::size_t align, std::size_t n) {
  g_count.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(align, n);
}
}
