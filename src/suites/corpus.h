// Text corpora for perplexity and KL divergence: plain text files, chat JSONL
// ({"messages": [{"role": ..., "content": ...}, ...]} per line, rendered with the model's chat
// template), or the small built-in corpus of original text so that perplexity runs with no download.
#pragma once

#include <string>
#include <vector>

#include "prompts/prompt.h"

namespace qaudit::suites {

struct Corpus {
  std::string name;    // "builtin" or the file name
  std::string source;  // path, or "builtin"
  bool chat = false;
  std::string text;                                       // plain corpora
  std::vector<std::vector<prompts::Message>> dialogues;  // chat corpora
  std::string content_hash;  // XXH3-64 of the raw bytes, 16 hex digits
};

// A ".jsonl" file is read as chat samples (errors name file, line and field); anything else as
// UTF-8 text. An empty path gives the built-in corpus.
Corpus load_corpus(const std::string& path);

// The text the model sees: plain text as is; dialogues rendered with `format` (no generation
// prompt) and joined with newlines.
std::string corpus_text(const Corpus& c, const prompts::ChatFormat& format);

// The built-in corpus: original expository prose written for qaudit (about 1,300 words).
const std::string& builtin_corpus_text();

}  // namespace qaudit::suites
