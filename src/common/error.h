// Errors that reach the user. An Error names where the bad input entered (file, line, field)
// and what to do about it; the CLI prints it once and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace qaudit {

struct ErrorSite {
  std::string file;   // path of the offending input, empty when none
  long line = 0;      // 1-based line, 0 when not line-oriented
  std::string field;  // offending field or key, empty when none
};

class Error : public std::runtime_error {
 public:
  Error(ErrorSite site, const std::string& message, std::string hint = {});
  Error(const std::string& message, std::string hint = {});

  const ErrorSite& site() const { return site_; }
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }

 private:
  ErrorSite site_;
  std::string message_;
  std::string hint_;
};

// "file:line: field 'x': message" plus "hint: ..." on its own line.
std::string error_text(const Error& e);

}  // namespace qaudit
