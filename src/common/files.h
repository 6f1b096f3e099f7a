// Checked file helpers: every failure becomes an Error naming the path and a hint.
#pragma once

#include <cstdint>
#include <string>

namespace qaudit {

// Whole file as bytes; Error if it cannot be read.
std::string read_file_checked(const std::string& path, const char* what);
// Throws unless path names a readable regular file.
void require_readable_file(const std::string& path, const char* what, const char* hint);
// 128-bit XXH3 of the file's bytes as 32 hex digits: the model identity stored with results.
std::string file_content_hash(const std::string& path);
// qaudit's cache directory: $QAUDIT_CACHE_DIR, else $XDG_CACHE_HOME/qaudit, else ~/.cache/qaudit
// (the same rule as scripts/setup.sh).
std::string qaudit_cache_dir();
// Writes bytes to path via a temporary file and rename, so a reader never sees half a file.
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace qaudit
