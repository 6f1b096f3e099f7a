#include "backends/http_backend.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <regex>

#include "common/error.h"

namespace qaudit::backends {

bool is_server_spec(const std::string& t) { return t.rfind("http://", 0) == 0 || t.rfind("https://", 0) == 0; }

ServerSpec parse_server_spec(const std::string& text) {
  static const std::regex re(R"(^(https?://[^/#?]+)(/[^#]*)?(?:#(.*))?$)");
  std::smatch m;
  if (!std::regex_match(text, m, re))
    throw Error(ErrorSite{"", 0, "--model"}, fmt::format("\"{}\" is not a server spec", text),
                "write http://HOST:PORT/v1#MODEL (the #MODEL part may be left out)");
  ServerSpec s;
  std::string path = m[2].matched ? m[2].str() : "/v1";
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.empty()) path = "/v1";
  s.base = m[1].str() + path;
  s.root = m[1].str() + (path.size() >= 3 && path.compare(path.size() - 3, 3, "/v1") == 0 ? path.substr(0, path.size() - 3) : path);
  s.model = m[3].matched ? m[3].str() : "";
  return s;
}

HttpBackend::HttpBackend(ServerSpec spec, HttpOptions options)
    : spec_(std::move(spec)), options_(options), client_(std::move(options)), model_(spec_.model) {}

nlohmann::json HttpBackend::chat(const nlohmann::json& body) {
  nlohmann::json b = body;
  if (!model_.empty()) b["model"] = model_;
  return client_.post(spec_.base + "/chat/completions", b);
}

ServerInfo HttpBackend::probe() {
  ServerInfo info;
  nlohmann::json models;
  try {
    models = client_.get(spec_.base + "/models");
  } catch (const HttpError& e) {
    throw Error(ErrorSite{spec_.base, 0, {}}, fmt::format("the server does not answer: {}", e.what()),
                "check that it is running and that the URL ends in /v1");
  }
  std::vector<std::string> ids;
  if (models.contains("data"))
    for (const auto& d : models["data"])
      if (d.contains("id")) ids.push_back(d["id"]);
  if (model_.empty()) {
    if (ids.size() != 1)
      throw Error(ErrorSite{spec_.base, 0, "model"}, fmt::format("the server serves {} models", ids.size()),
                  fmt::format("name one after '#': {}", fmt::join(ids, ", ")));
    model_ = ids[0];
  } else if (!ids.empty() && std::find(ids.begin(), ids.end(), model_) == ids.end()) {
    throw Error(ErrorSite{spec_.base, 0, "model"}, fmt::format("the server does not serve \"{}\"", model_),
                fmt::format("it serves: {}", fmt::join(ids, ", ")));
  }
  info.model = model_;
  nlohmann::json desc = {{"base", spec_.base}, {"model", model_}};
  try {  // llama-server only
    auto props = client_.get(spec_.root + "/props");
    info.slots = props.value("total_slots", 0);
    info.chat_template = props.value("chat_template", std::string());
    for (const char* k : {"model_path", "model_ftype", "build_info", "total_slots"})
      if (props.contains(k)) desc[k] = props[k];
  } catch (const HttpError&) {
  }
  info.description = desc.dump();
  // The identity leaves the URL out: the same model served from several endpoints (or moved to
  // another host) is one model in the store.
  nlohmann::json id = desc;
  id.erase("base");
  id.erase("total_slots");
  std::string key = id.dump();
  info.identity = fmt::format("server:{:016x}", XXH3_64bits(key.data(), key.size()));
  std::vector<prompts::Message> hello{{"user", "Hello"}};
  try {
    // Greedy, so the probe is deterministic; a server that supports logprobs returns the object
    // even when the one token it generated ends the reply.
    auto r = chat({{"messages", {{{"role", "user"}, {"content", "Hello"}}}},
                   {"max_tokens", 1},
                   {"temperature", 0.0},
                   {"logprobs", true},
                   {"top_logprobs", 2}});
    const auto& choice = r["choices"][0];
    info.top_logprobs = choice.contains("logprobs") && choice["logprobs"].is_object() && choice["logprobs"].contains("content") &&
                        choice["logprobs"]["content"].is_array();
  } catch (const HttpError&) {
  }
  try {
    nlohmann::json b = {{"prompt", "Hello world"}, {"max_tokens", 1}, {"logprobs", 1}, {"echo", true}};
    if (!model_.empty()) b["model"] = model_;
    auto r = client_.post(spec_.base + "/completions", b);
    const auto& lp = r["choices"][0].value("logprobs", nlohmann::json());
    // OpenAI's echo puts the prompt's tokens first: more entries than generated tokens.
    info.prompt_logprobs = lp.is_object() && lp.contains("tokens") && lp["tokens"].size() > 1;
  } catch (const std::exception&) {
  }
  return info;
}

std::vector<TopToken> HttpBackend::first_token_top(const std::vector<prompts::Message>& messages, int k) {
  nlohmann::json msgs = nlohmann::json::array();
  for (const auto& m : messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
  auto r = chat({{"messages", msgs}, {"max_tokens", 1}, {"temperature", 0.0}, {"logprobs", true}, {"top_logprobs", k}});
  std::vector<TopToken> out;
  const auto& content = r.at("choices").at(0).at("logprobs").at("content");
  if (content.empty()) return out;
  for (const auto& t : content[0].at("top_logprobs")) out.push_back({t.value("id", -1), t.value("token", std::string()), t.value("logprob", -1e30)});
  return out;
}

std::string HttpBackend::generate(const std::vector<prompts::Message>& messages, double temperature, uint32_t seed, int max_tokens) {
  nlohmann::json msgs = nlohmann::json::array();
  for (const auto& m : messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
  auto r = chat({{"messages", msgs}, {"max_tokens", max_tokens}, {"temperature", temperature}, {"seed", seed}});
  const auto& c = r.at("choices").at(0).at("message").value("content", nlohmann::json());
  return c.is_string() ? c.get<std::string>() : std::string();
}

}  // namespace qaudit::backends
