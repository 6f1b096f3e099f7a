// Sentence-likelihood suites: CrowS-Pairs (a more and a less stereotyping sentence) and
// StereoSet intrasentence (a stereotype, an anti-stereotype and an unrelated sentence per
// context). Each item's sentences are scored by the model's log-likelihood; the metrics are those
// of lm-evaluation-harness (CrowS-Pairs) and of StereoSet's official evaluation.
#pragma once

#include <string>
#include <vector>

namespace qaudit::suites {

struct SentenceItem {
  std::string id;         // "crows/<row>" or the StereoSet example id
  std::string category;   // CrowS-Pairs bias_type; StereoSet bias_type
  std::string target;     // StereoSet target term; CrowS-Pairs: empty
  std::string direction;  // CrowS-Pairs stereo_antistereo ("stereo" | "antistereo"); StereoSet: empty
  std::vector<std::string> sentences;  // CrowS: [sent_more, sent_less]; StereoSet: [stereotype, anti-stereotype, unrelated]
  std::string source;     // file:line
};

struct SentenceSuite {
  std::string name;     // "crows-pairs" | "stereoset"
  std::string version;
  std::vector<SentenceItem> items;
};

// The CSV as distributed (header with sent_more, sent_less, stereo_antistereo, bias_type; RFC 4180
// quoting). Errors name file, line and column.
SentenceSuite load_crows_pairs(const std::string& path);

// StereoSet's dev.json ({"data": {"intrasentence": [...]}}); intrasentence examples only.
SentenceSuite load_stereoset(const std::string& path);

}  // namespace qaudit::suites
