#include "common/version.h"

namespace qaudit {

const char* qaudit_version() { return QAUDIT_VERSION; }
const char* llama_release() { return QAUDIT_LLAMA_RELEASE; }
std::string version_line() {
  return std::string("qaudit ") + qaudit_version() + " (llama.cpp " + llama_release() + ")";
}

}  // namespace qaudit
