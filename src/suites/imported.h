// Predictions made elsewhere, imported as variants: per-item answers that are analysed like
// qaudit's own runs.
//   bbq-columns  BBQ JSONL with extra columns holding each model's answer text (as BBQ's published
//                UnifiedQA predictions); every selected column becomes a variant
//   lmeval       lm-evaluation-harness --log_samples JSONL of a bbq task: per-option
//                log-likelihoods (multiple_choice, 3 or 12 options) or generated text
//   csv          item_id,variant and either answer (option index 0-2, letter A-C, or option text)
//                or p0,p1,p2 (option probabilities); items come from a suite given alongside
// Answers given as text are read the way lm-evaluation-harness's generate task reads them; text
// that matches no option is counted as unmatched (an answer of no option).
#pragma once

#include <string>
#include <vector>

#include "suites/item.h"

namespace qaudit::suites {

struct ImportedAnswer {
  std::string item_id;
  std::vector<double> probs;  // per item option (one-hot for a chosen option, zeros when unmatched)
  int answer = -1;
  std::string raw;            // the answer as given
  std::string rule;           // "text", "unmatched", "loglik", "index", "letter", "probs"
};

struct ImportedVariant {
  std::string name;
  std::vector<ImportedAnswer> answers;
  int unmatched = 0;
};

struct Imported {
  std::string format;
  Suite suite;  // the items (bbq-columns, lmeval) or a copy of the given suite (csv)
  std::vector<ImportedVariant> variants;
};

// `columns` empty: every field that is not part of BBQ's schema and holds a string.
Imported import_bbq_columns(const std::string& path, const std::vector<std::string>& columns);
// `name`: the variant's name (default: the file name).
Imported import_lmeval_samples(const std::string& path, const std::string& name);
Imported import_csv(const std::string& path, const Suite& suite);

}  // namespace qaudit::suites
