// The served-model backend: an OpenAI-compatible server (llama-server, vLLM, ...) reached over
// HTTP. A model spec reads "http://host:port/v1#model-name" (the name may be left out when the
// server serves one model). What the server can do is probed at start; a mode it cannot serve is
// refused with the missing capability named.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backends/http_client.h"
#include "prompts/prompt.h"

namespace qaudit::backends {

struct ServerSpec {
  std::string base;   // ".../v1"
  std::string root;   // base without "/v1" (llama-server's /props, /health)
  std::string model;  // may be empty
};
// Throws an Error naming the spec when it is not http(s)://host[:port]/v1[#model].
ServerSpec parse_server_spec(const std::string& spec);
bool is_server_spec(const std::string& text);

struct ServerInfo {
  std::string model;            // the served model's id
  int slots = 0;                // parallel slots llama-server reports (0: unknown)
  std::string description;      // what the server says about itself (JSON)
  std::string identity;         // stable id stored as the model hash: "server:<xxh64 of model + build + path>"
  std::string chat_template;    // when the server exposes it
  bool top_logprobs = false;    // first generated token's top log-probabilities
  bool prompt_logprobs = false; // log-probabilities of the prompt's tokens (echo / prompt_logprobs)
};

struct TopToken {
  int id = -1;
  std::string token;
  double logprob = 0;
};

class HttpBackend {
 public:
  HttpBackend(ServerSpec spec, HttpOptions options);
  // Probes /v1/models, llama-server's /props and the logprob capabilities.
  ServerInfo probe();
  // Uses a model name found by another backend's probe() (no requests).
  void probe_model_only(const std::string& model) { model_ = model; }
  const ServerSpec& spec() const { return spec_; }

  // The first generated token's top-k alternatives after the chat messages (the server applies
  // its chat template), as the server computes them before sampling.
  std::vector<TopToken> first_token_top(const std::vector<prompts::Message>& messages, int k);
  // Sampled text.
  std::string generate(const std::vector<prompts::Message>& messages, double temperature, uint32_t seed, int max_tokens);

 private:
  nlohmann::json chat(const nlohmann::json& body);
  ServerSpec spec_;
  HttpOptions options_;
  HttpClient client_;
  std::string model_;
};

}  // namespace qaudit::backends
