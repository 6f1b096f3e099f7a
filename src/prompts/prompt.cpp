#include "prompts/prompt.h"

#include <fmt/format.h>
#include <llama.h>
#include <xxhash.h>

#include "common/error.h"

namespace qaudit::prompts {

std::vector<Message> study_messages(const suites::Item& item) {
  std::string user = fmt::format("Context: {}\n\nQuestion: {}\n\n", item.context, item.question);
  for (size_t i = 0; i < item.options.size(); ++i) user += fmt::format("{}) {}\n", char('A' + i), item.options[i]);
  user += "\nAnswer:";
  return {{"system",
           "Answer the following multiple choice question by responding with only the letter (A, B, or C) "
           "of your chosen answer."},
          {"user", user}};
}

ChatFormat chat_format(std::optional<std::string> model_template, bool force_plain) {
  ChatFormat f;
  if (force_plain || !model_template || model_template->empty()) {
    f.id = "plain";
    return f;
  }
  f.template_text = std::move(model_template);
  f.id = fmt::format("chat-{:08x}", uint32_t(XXH32(f.template_text->data(), f.template_text->size(), 0)));
  return f;
}

std::string render(const ChatFormat& f, const std::vector<Message>& messages, bool add_generation_prompt) {
  if (!f.template_text) {
    std::string out;
    for (size_t i = 0; i < messages.size(); ++i) out += (i ? "\n\n" : "") + messages[i].content;
    return out;
  }
  std::vector<llama_chat_message> msgs;
  size_t total = 0;
  for (const auto& m : messages) {
    msgs.push_back({m.role.c_str(), m.content.c_str()});
    total += m.content.size();
  }
  std::string buf(2 * total + 1024, '\0');
  int32_t n = llama_chat_apply_template(f.template_text->c_str(), msgs.data(), msgs.size(), add_generation_prompt, buf.data(), int32_t(buf.size()));
  if (n > int32_t(buf.size())) {
    buf.resize(n);
    n = llama_chat_apply_template(f.template_text->c_str(), msgs.data(), msgs.size(), add_generation_prompt, buf.data(), int32_t(buf.size()));
  }
  if (n < 0)
    throw Error("the model's chat template is not one llama.cpp's template renderer recognises",
                "pass --no-chat-template to use the plain prompt format (recorded as prompt 'plain')");
  buf.resize(n);
  return buf;
}

std::string lmeval_context(const suites::Item& item) { return item.context + "\n\nQ: " + item.question + "\nA:"; }

std::string prompt_id(const char* prompt_name, const ChatFormat& f) { return std::string(prompt_name) + "/" + f.id; }

}  // namespace qaudit::prompts
