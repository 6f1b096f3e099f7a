#include "backends/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

namespace qaudit::backends {
namespace {

size_t on_body(char* p, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

size_t on_header(char* p, size_t size, size_t n, void* user) {
  std::string h(p, size * n);
  auto* retry_after = static_cast<double*>(user);
  if (h.size() > 12 && strncasecmp(h.c_str(), "Retry-After:", 12) == 0) {
    try {
      *retry_after = std::stod(h.substr(12));
    } catch (const std::exception&) {
    }
  }
  return size * n;
}

std::once_flag curl_once;

}  // namespace

HttpClient::HttpClient(HttpOptions o) : o_(std::move(o)) {
  std::call_once(curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (curl_) curl_easy_cleanup(curl_);
}

nlohmann::json HttpClient::get(const std::string& url) { return request(url, nullptr); }
nlohmann::json HttpClient::post(const std::string& url, const nlohmann::json& body) {
  std::string b = body.dump();
  return request(url, &b);
}

nlohmann::json HttpClient::request(const std::string& url, const std::string* body) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  double wait = o_.backoff_s;
  for (int attempt = 0;; ++attempt) {
    std::string response;
    double retry_after = -1;
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &retry_after);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, long(o_.timeout_s * 1000));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    if (!o_.api_key.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + o_.api_key).c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    if (body) {
      curl_easy_setopt(curl_, CURLOPT_POST, 1L);
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body->c_str());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, long(body->size()));
    }
    CURLcode rc = curl_easy_perform(curl_);
    curl_slist_free_all(headers);
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    bool transient = rc != CURLE_OK || status == 429 || status >= 500;
    if (rc == CURLE_OK && status >= 200 && status < 300) {
      try {
        return nlohmann::json::parse(response);
      } catch (const nlohmann::json::parse_error&) {
        throw HttpError(fmt::format("{}: the response is not JSON", url), status, false);
      }
    }
    std::string what = rc != CURLE_OK ? fmt::format("{}: {}", url, curl_easy_strerror(rc))
                                      : fmt::format("{}: HTTP {}: {}", url, status, response.substr(0, 300));
    if (!transient || attempt >= o_.retries) throw HttpError(what, status, transient);
    double jitter = std::uniform_real_distribution<double>(0.5, 1.5)(rng);
    double pause = retry_after >= 0 ? retry_after : wait * jitter;
    std::this_thread::sleep_for(std::chrono::duration<double>(std::min(pause, 60.0)));
    wait *= 2;
  }
}

}  // namespace qaudit::backends
