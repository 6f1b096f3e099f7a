#include "common/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace qaudit {

Progress::Progress(std::string label, int64_t total, bool quiet)
    : label_(std::move(label)), total_(total), enabled_(!quiet && isatty(STDERR_FILENO)) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() { finish(); }

void Progress::advance(int64_t n) {
  done_ += n;
  draw(false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!enabled_) return;
  draw(true);
  std::fputc('\n', stderr);
}

void Progress::draw(bool force) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? done_ / secs : 0;
  double frac = total_ > 0 ? double(done_) / total_ : 1;
  int width = 30, filled = int(frac * width);
  std::string bar(filled, '#');
  bar.resize(width, '.');
  std::string eta = rate > 0 && done_ < total_ ? fmt::format("ETA {:.0f}s", (total_ - done_) / rate) : "";
  fmt::print(stderr, "\r{} [{}] {}/{} {:.1f}/s {}   ", label_, bar, done_, total_, rate, eta);
  std::fflush(stderr);
}

}  // namespace qaudit
