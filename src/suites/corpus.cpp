#include "suites/corpus.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/files.h"

namespace qaudit::suites {

const std::string& builtin_corpus_text() {
  static const std::string text = R"(The River Town Library

The library in the river town opened its doors every morning at nine, and on most days the first
visitor was already waiting on the steps. Sometimes it was a student with a stack of returns,
sometimes a retired engineer who read the newspapers from front to back, and sometimes a family
with small children who wanted the picture books on the lowest shelf. The librarian kept a notebook
of small observations: which chairs were taken first, which windows caught the afternoon light, and
which questions came up again and again at the front desk.

Most questions were practical. People wanted to know how to renew a book without the card they had
left at home, how to print a form for the tax office, or where to find a map of the hiking trails
north of the town. Other questions were harder to answer. A teenager asked how to tell whether a
website could be trusted. An older man asked how his grandson's school decided which history books
to use. A woman who had just moved from another country asked where she could practise speaking
with neighbours who did not mind mistakes.

Over the years the library changed more than its building did. The card catalogue became a search
screen, then a website, then an application on the phone. The reading room gained power sockets,
and the quiet corner gained a sign asking people to take their calls outside. The collection itself
moved slowly. New books arrived every month, but the old atlas with its hand-coloured plates stayed
in its glass case, and the local history shelf kept the minutes of town meetings going back more
than a century.

How a Bridge Is Inspected

Every bridge in the region is inspected on a schedule that depends on its age, its materials and
the traffic it carries. An inspector begins with the records: the original drawings, the reports of
earlier inspections, and any repairs made since. Then comes the walk. The inspector looks for cracks
in the concrete, rust stains that suggest water reaching the steel inside, loose bolts, and bearings
that no longer allow the deck to expand and contract with the seasons.

Some problems are visible from the road, but many are not. Inspectors use boats to reach the piers,
ladders and lifts to reach the underside of the deck, and small hammers to listen to the sound of
the concrete. A clear ring means solid material; a dull thud can mean a hollow space where the
surface has separated from the core. Modern inspections add sensors that measure how the structure
moves when a heavy truck crosses, and those measurements are compared with the values the designers
expected.

The report that follows is written for people who will never see the bridge up close. It rates each
part of the structure on a simple scale, explains what was found, and recommends what should be
done and how soon. A good report is specific. It does not say that the bridge is in poor condition;
it says which joint is leaking, how wide the crack has become since the last visit, and what will
happen if nothing is done before the next winter.

Keeping Bees in a Small Garden

A single hive fits in a surprisingly small space, but the bees themselves range widely. On a warm
day a forager may fly several kilometres to reach a field of clover or a row of flowering lime trees.
The beekeeper's task is less to feed the colony than to give it a dry, sheltered home, to watch for
disease, and to make sure the bees have enough stored honey to survive the cold months.

An inspection is calm and slow. The beekeeper opens the hive on a mild afternoon when many of the
workers are out, lifts each frame in turn, and looks for eggs, larvae and capped brood. Eggs mean
that the queen was present a few days earlier. A frame packed with pollen in many colours shows that
the foragers are finding a varied diet. Too many drones, or cells built along the bottom edge of the
frames, can be a sign that the colony is preparing to swarm.

Neighbours sometimes worry about stings, but a well-kept colony is rarely aggressive. Placing the
entrance so that the bees fly upward over a hedge keeps their path above head height. In return the
garden gains pollinators for its fruit trees, and the beekeeper gains a few jars of honey that taste
of whatever happened to flower that summer.

Notes on Learning a Second Language

Adults who learn a second language often say that listening is the hardest part. Written words stay
on the page until they are understood, but speech moves on. Teachers recommend short daily practice
over long weekly sessions, because the ear adapts through repetition. Listening to the same short
recording several times, first for the general meaning and then for individual words, is more useful
than listening once to something long.

Speaking brings a different difficulty: the fear of making mistakes in front of others. Many
learners find that conversation groups help, especially when every member is learning and nobody is
expected to be perfect. Mistakes become a shared joke rather than a source of embarrassment.
Vocabulary grows fastest when new words are tied to real situations, such as ordering food, asking
for directions or describing a job, rather than memorised from lists.

Reading and writing support each other. A learner who keeps a short diary in the new language
notices which words are missing and looks them up, and a learner who reads simple novels meets the
same words again and again in different sentences. Progress is rarely steady. Weeks of slow
improvement are followed by a sudden moment when a radio programme becomes understandable, and the
effort of the earlier weeks makes sense.

The Weather Station on the Hill

The weather station on the hill records temperature, humidity, pressure, wind and rain every ten
minutes, and has done so for more than forty years. The instruments have been replaced several
times, and each replacement was run alongside the old one for a full year so that the records would
remain comparable. Volunteers visit once a week to clear leaves from the rain gauge, check the
batteries, and note anything unusual, such as a spider web across the wind vane.

The long record is what makes the station valuable. A single hot summer says little, but four
decades of measurements show how the dates of the first frost and the last frost have moved, how
the heaviest rainfalls have changed, and how often the river valley fills with fog on autumn
mornings. Farmers use the data to decide when to plant, the town uses it to plan drainage, and
schools use it to teach how careful measurement turns into knowledge.
)";
  return text;
}

Corpus load_corpus(const std::string& path) {
  Corpus c;
  if (path.empty()) {
    c.name = c.source = "builtin";
    c.text = builtin_corpus_text();
  } else {
    std::string bytes = read_file_checked(path, "corpus");
    c.name = std::filesystem::path(path).filename().string();
    c.source = path;
    if (bytes.find_first_not_of(" \t\r\n") == std::string::npos)
      throw Error(ErrorSite{path, 0, {}}, "the corpus is empty", "pass a plain-text file or chat JSONL with some content");
    if (std::filesystem::path(path).extension() == ".jsonl") {
      c.chat = true;
      std::istringstream in(bytes);
      std::string line;
      long n = 0;
      while (std::getline(in, line)) {
        ++n;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        nlohmann::json j;
        try {
          j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::parse_error& e) {
          throw Error(ErrorSite{path, n, {}}, fmt::format("not valid JSON ({})", e.what()),
                      "each line must be {\"messages\": [{\"role\": ..., \"content\": ...}, ...]}");
        }
        if (!j.is_object() || !j.contains("messages") || !j["messages"].is_array() || j["messages"].empty())
          throw Error(ErrorSite{path, n, "messages"}, "missing or empty", "each line needs a non-empty \"messages\" array");
        std::vector<prompts::Message> msgs;
        for (const auto& m : j["messages"]) {
          if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") || !m["content"].is_string())
            throw Error(ErrorSite{path, n, "messages"}, "every message needs string fields \"role\" and \"content\"",
                        "e.g. {\"role\": \"user\", \"content\": \"Hello\"}");
          msgs.push_back({m["role"], m["content"]});
        }
        c.dialogues.push_back(std::move(msgs));
      }
    } else {
      c.text = std::move(bytes);
    }
  }
  const std::string& raw = c.chat ? read_file_checked(path, "corpus") : c.text;
  c.content_hash = fmt::format("{:016x}", XXH3_64bits(raw.data(), raw.size()));
  return c;
}

std::string corpus_text(const Corpus& c, const prompts::ChatFormat& format) {
  if (!c.chat) return c.text;
  std::string out;
  for (const auto& d : c.dialogues) {
    if (!out.empty()) out += "\n";
    out += prompts::render(format, d, false);
  }
  return out;
}

}  // namespace qaudit::suites
