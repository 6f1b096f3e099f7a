#include "common/files.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "common/error.h"

namespace qaudit {

void require_readable_file(const std::string& path, const char* what, const char* hint) {
  std::error_code ec;
  auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st))
    throw Error(ErrorSite{path, 0, {}}, fmt::format("{} does not exist", what), hint);
  if (!std::filesystem::is_regular_file(st))
    throw Error(ErrorSite{path, 0, {}}, fmt::format("{} is not a regular file", what), hint);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(ErrorSite{path, 0, {}}, fmt::format("cannot open {}: {}", what, std::strerror(errno)), hint);
  std::fclose(f);
}

std::string read_file_checked(const std::string& path, const char* what) {
  require_readable_file(path, what, "check the path");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) throw Error(ErrorSite{path, 0, {}}, fmt::format("error reading {}", what));
  return ss.str();
}

std::string file_content_hash(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw Error(ErrorSite{path, 0, {}}, fmt::format("cannot open: {}", std::strerror(errno)));
  std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t*)> st(XXH3_createState(), &XXH3_freeState);
  XXH3_128bits_reset(st.get());
  std::vector<char> buf(1 << 22);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) XXH3_128bits_update(st.get(), buf.data(), n);
  if (std::ferror(f.get())) throw Error(ErrorSite{path, 0, {}}, "read error while hashing");
  XXH128_hash_t h = XXH3_128bits_digest(st.get());
  return fmt::format("{:016x}{:016x}", h.high64, h.low64);
}

std::string qaudit_cache_dir() {
  const char* cache = std::getenv("QAUDIT_CACHE_DIR");
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  if (cache && *cache) return cache;
  if (xdg && *xdg) return (std::filesystem::path(xdg) / "qaudit").string();
  return (std::filesystem::path(home && *home ? home : ".") / ".cache" / "qaudit").string();
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(ErrorSite{path, 0, {}}, fmt::format("cannot write: {}", std::strerror(errno)),
                          "check that the directory exists and is writable");
    out << bytes;
    if (!out.flush()) throw Error(ErrorSite{path, 0, {}}, "write failed (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error(ErrorSite{path, 0, {}}, "cannot rename temporary file: " + ec.message());
}

}  // namespace qaudit
