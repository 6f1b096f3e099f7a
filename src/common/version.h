// What every stored result and `qaudit --version` names: qaudit's own version and the pinned
// llama.cpp release it runs.
#pragma once

#include <string>

namespace qaudit {

const char* qaudit_version();
const char* llama_release();
// "qaudit X (llama.cpp Y)"
std::string version_line();

}  // namespace qaudit
