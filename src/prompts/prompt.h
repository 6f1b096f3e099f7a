// Item -> prompt text. The study's prompt (DESIGN.md) verbatim, rendered through the model's own
// chat template with the generation prompt added; a plain rendering where the model has none.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "suites/item.h"

namespace qaudit::prompts {

struct Message {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
};

// The study's system and user messages for a three-option item.
std::vector<Message> study_messages(const suites::Item& item);

// lm-evaluation-harness's bbq context, "{context}\n\nQ: {question}\nA:" (no chat template); each
// option follows it after a space.
std::string lmeval_context(const suites::Item& item);

// How messages become text. `template_text` is the model's tokenizer.chat_template; empty means
// the model has none and the plain format ("{system}\n\n{user}") is used.
struct ChatFormat {
  std::optional<std::string> template_text;
  std::string id;  // stored with every result: "chat-<hash>" or "plain"
};

ChatFormat chat_format(std::optional<std::string> model_template, bool force_plain);

// Renders messages, ending where the assistant's answer begins (or, without the generation
// prompt, after the last message: a whole conversation, for perplexity). Throws an Error when the model's
// template is one llama.cpp's renderer does not recognise (instead of silently using another).
std::string render(const ChatFormat& fmt, const std::vector<Message>& messages, bool add_generation_prompt = true);

// The prompt id stored with results: prompt name + chat format id, e.g. "study/chat-1a2b3c4d".
std::string prompt_id(const char* prompt_name, const ChatFormat& fmt);

}  // namespace qaudit::prompts
