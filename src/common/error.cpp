#include "common/error.h"

#include <fmt/format.h>

namespace qaudit {
namespace {

std::string compose(const ErrorSite& s, const std::string& message) {
  std::string out;
  if (!s.file.empty()) out += s.line > 0 ? fmt::format("{}:{}: ", s.file, s.line) : s.file + ": ";
  if (!s.field.empty()) out += fmt::format("field '{}': ", s.field);
  return out + message;
}

}  // namespace

Error::Error(ErrorSite site, const std::string& message, std::string hint)
    : std::runtime_error(compose(site, message)),
      site_(std::move(site)),
      message_(message),
      hint_(std::move(hint)) {}

Error::Error(const std::string& message, std::string hint)
    : Error(ErrorSite{}, message, std::move(hint)) {}

std::string error_text(const Error& e) {
  std::string out = std::string("error: ") + e.what();
  if (!e.hint().empty()) out += "\n  hint: " + e.hint();
  return out;
}

}  // namespace qaudit
