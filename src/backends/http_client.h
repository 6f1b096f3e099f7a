// A small JSON-over-HTTP client on libcurl for OpenAI-compatible servers: timeouts, retries with
// exponential backoff and jitter on connection errors, 429 and 5xx (honouring Retry-After), TLS
// verification on. The API key comes from an environment variable and is sent only as an
// Authorization header — never logged, never stored.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

typedef void CURL;

namespace qaudit::backends {

struct HttpOptions {
  double timeout_s = 120;
  int retries = 5;             // further attempts after the first
  double backoff_s = 0.5;      // first wait; doubled each retry, with jitter
  std::string api_key;         // value (read from the environment by the caller)
};

class HttpError : public std::runtime_error {
 public:
  HttpError(const std::string& what, long status, bool transient) : std::runtime_error(what), status(status), transient(transient) {}
  long status;     // HTTP status, 0 for a connection error
  bool transient;  // worth retrying later (connection, 429, 5xx)
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions o);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GET / POST a JSON body; returns the parsed response. Throws HttpError after the retries.
  nlohmann::json get(const std::string& url);
  nlohmann::json post(const std::string& url, const nlohmann::json& body);

 private:
  nlohmann::json request(const std::string& url, const std::string* body);
  HttpOptions o_;
  CURL* curl_ = nullptr;
};

}  // namespace qaudit::backends
