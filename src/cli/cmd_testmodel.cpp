#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "testmodel/testmodel.h"

namespace qaudit::cli {

Runner add_testmodel(CLI::App& app) {
  struct Args {
    testmodel::Options opt;
    std::string preset = "tiny", out;
    int n_embd = 0, n_ff = 0, n_layer = 0, n_head = 0, n_head_kv = 0;
  };
  auto a = std::make_shared<Args>();
  app.footer(
      "Examples:\n"
      "  qaudit testmodel -o tiny-qwen2.gguf\n"
      "  qaudit testmodel --arch phi3 --seed 7 -o tiny-phi3.gguf\n"
      "  qaudit testmodel --preset qwen2.5-0.5b -o bench-qwen2.gguf\n"
      "The weights are random: the model's answers mean nothing. Same options -> byte-identical file.");
  app.add_option("-o,--out", a->out, "output GGUF file")->required();
  app.add_option("--arch", a->opt.arch, "architecture")->capture_default_str()->check(CLI::IsMember({"llama", "qwen2", "phi3"}));
  app.add_option("--preset", a->preset, "shape preset")->capture_default_str()->check(CLI::IsMember(testmodel::preset_names()));
  app.add_option("--seed", a->opt.seed, "random seed")->capture_default_str();
  app.add_option("--vocab", a->opt.vocab_path, "vocab-only GGUF to take the tokenizer from (default: llama.cpp's for --arch)");
  app.add_flag("--f32", a->opt.f32, "store weight matrices as F32 (default F16)");
  app.add_option("--n-embd", a->n_embd, "override the preset's embedding width");
  app.add_option("--n-ff", a->n_ff, "override the feed-forward width");
  app.add_option("--n-layer", a->n_layer, "override the number of layers");
  app.add_option("--n-head", a->n_head, "override the number of attention heads");
  app.add_option("--n-head-kv", a->n_head_kv, "override the number of KV heads");
  return [a] {
    a->opt.shape = testmodel::preset(a->preset);
    auto& s = a->opt.shape;
    if (a->n_embd) s.n_embd = a->n_embd;
    if (a->n_ff) s.n_ff = a->n_ff;
    if (a->n_layer) s.n_layer = a->n_layer;
    if (a->n_head) s.n_head = a->n_head;
    if (a->n_head_kv) s.n_head_kv = a->n_head_kv;
    testmodel::write_test_model(a->opt, a->out);
    fmt::print(stderr, "wrote {} ({}, n_embd {}, n_ff {}, {} layers, {} heads / {} KV heads, seed {})\n", a->out,
               a->opt.arch, s.n_embd, s.n_ff, s.n_layer, s.n_head, s.n_head_kv, a->opt.seed);
    return 0;
  };
}

}  // namespace qaudit::cli
