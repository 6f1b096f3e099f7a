// Evaluating a served model: the study's prompt as chat messages (the server applies its own chat
// template), many requests in flight (one client per worker thread), every answered item
// committed to the store as it arrives. A request that still fails after its retries is counted
// as failed for that item and left out of the store, so a rerun retries exactly what is missing.
#pragma once

#include <string>

#include "backends/http_backend.h"
#include "engine/eval.h"

namespace qaudit::engine {

struct HttpEvalOptions {
  EvalOptions eval;              // mode ("letters" or "sample"), temperature, seeds, quiet, command
  backends::HttpOptions http;
  int concurrency = 0;           // requests in flight (0: the server's slots, else 4)
  int top_k = 20;                // alternatives asked for the first token (letters mode)
};

struct HttpEvalSummary {
  EvalSummary sum;
  backends::ServerInfo server;
  int failed = 0;
  std::string first_failure;
};

// Throws an Error before any request when the server cannot serve the mode.
// Several endpoints serving the same model share the work (workers are spread round-robin); they
// must report the same model.
HttpEvalSummary eval_http(const std::vector<backends::ServerSpec>& specs, const HttpEvalOptions& opt, const suites::Suite& suite,
                          store::Store& store);

// Letter masses from the first token's top-k (T = 1 log-probabilities as the server reports them):
// fills probs_t1/invalid_t1 from the covered tokens, probs/invalid at `temperature` renormalised
// over the covered tokens, and returns the mass the top-k does not cover.
double letters_from_top(const std::vector<backends::TopToken>& top, double temperature, store::ResultRow& row);

}  // namespace qaudit::engine
