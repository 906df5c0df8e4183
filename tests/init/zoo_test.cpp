// tests/init/zoo_test.cpp: the initializer zoo: norms, spectra, structure controls,
// connectomes, cell types and task-aligned initializations.
#include "../test_common.h"

#include <richlazy/core/registries.h>
#include <richlazy/core/config_error.h>
#include <richlazy/core/npy.h>
#include <richlazy/core/seeding.h>
#include <richlazy/init/apply.h>
#include <richlazy/init/cell_types.h>
#include <richlazy/init/matrix_file.h>
#include <richlazy/init/norm.h>
#include <richlazy/metrics/effective_rank.h>
#include <richlazy/tasks/teacher_student.h>
#include <richlazy/train/experiment.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

using namespace richlazy;
using testing::registries;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
struct Built {
  std::unique_ptr<init::Initializer> init;
  torch::Tensor matrix;
};

/// Builds and runs an initializer from YAML for a rows x cols matrix; `done` holds already
/// initialized parameters (for aligned initializers).
Built build(const std::string& yaml, int64_t rows, int64_t cols, uint64_t seed = 3,
            const std::map<std::string, torch::Tensor>& done = {}, const tasks::Task* task = nullptr) {
  std::map<std::string, std::vector<int64_t>> shapes{{"W", {rows, cols}}};
  for (const auto& [k, v] : done) shapes[k] = v.sizes().vec();
  // The roles a CTRNN gives these names, for initializers that find weights by role.
  std::vector<std::pair<std::string, std::string>> roles{{"W", "recurrent"}};
  for (const auto& [name, role] : {std::pair{"W_in", "input"}, std::pair{"W_out", "readout"}}) {
    if (done.count(name)) roles.emplace_back(name, role);
  }
  Params p = testing::params_from(yaml, "init.W");
  const init::InitTarget target{"W", rows, cols, &registries().initializers, task, shapes, roles};
  Built b;
  b.init = registries().initializers.create(p, target);
  at::Generator gen = make_generator(seed);
  b.matrix = b.init->make(init::InitInputs{gen, done});
  return b;
}

torch::Tensor build_matrix(const std::string& yaml, int64_t rows, int64_t cols, uint64_t seed = 3) {
  return build(yaml, rows, cols, seed).matrix;
}

double erank(const torch::Tensor& w) { return metrics::spectrum_measures(w).roy_vetterli; }

std::string data(const std::string& rel) { return testing::data_dir() + "/" + rel; }
}  // namespace

TEST_CASE("every initializer constructs, keeps shape and dtype, rejects unknown keys", "[init]") {
  testing::TempDir tmp;
  write_npy(tmp.file("m.npy"), torch::rand({6, 6}, torch::kDouble));
  std::filesystem::create_directories(tmp.file("run/weights"));
  write_npy(tmp.file("run/weights/W_init.npy"), torch::zeros({6, 6}, torch::kDouble));
  write_npy(tmp.file("run/weights/W_final.npy"), torch::rand({6, 6}, torch::kDouble));
  testing::write_text(tmp.file("t.yaml"),
                      "classes:\n  - {name: e, fraction: 0.8}\n  - {name: i, fraction: 0.2}\n"
                      "connection_probability:\n  e: [0.2, 0.5]\n  i: [0.6, 0.3]\n"
                      "synaptic_weight:\n  e: [1.0, 2.0]\n  i: [-3.0, -1.0]\n");
  const std::map<std::string, std::string> extra{
      {"low_rank", "rank: 2"},
      {"low_rank_of", "rank: 2, base: {name: gaussian}"},
      {"shuffled", "base: {name: gaussian}"},
      {"column_shuffled", "base: {name: gaussian}"},
      {"rewired", "base: {name: gaussian}"},
      {"outlier_removed", "base: {name: gaussian}"},
      {"spectrum_matched", "base: {name: gaussian}"},
      {"connectome", "file: " + tmp.file("m.npy")},
      {"cell_types", "table: " + tmp.file("t.yaml")},
      {"from_weights", "file: " + tmp.file("m.npy")},
      {"io_aligned_low_rank", "rank: 1"},
      {"solution_aligned", "rank: 2, angle: 45, run: " + tmp.file("run")},
      {"teacher_aligned", ""}};
  const std::map<std::string, torch::Tensor> done{{"W_in", torch::randn({6, 2}, torch::kDouble)},
                                                  {"W_out", torch::randn({3, 6}, torch::kDouble)}};
  Params tp = testing::params_from("{name: teacher_student, dim: 6}", "task");
  const auto task = registries().tasks.create(tp);
  for (const auto& e : registries().initializers.entries()) {
    // It simulates a run's network on its task: tested below with a run's config.
    if (e.name == "activity_aligned_low_rank") continue;
    INFO("initializer " << e.name);
    const std::string opts = extra.count(e.name) ? extra.at(e.name) : "";
    const std::string yaml = "{name: " + e.name + (opts.empty() ? "" : ", " + opts);
    const Built b = build(yaml + "}", 6, 6, 1, done, task.get());
    REQUIRE(b.matrix.sizes() == torch::IntArrayRef({6, 6}));
    REQUIRE(b.matrix.scalar_type() == torch::kDouble);
    REQUIRE(torch::isfinite(b.matrix).all().item<bool>());
    REQUIRE_THROWS_AS(build(yaml + ", bogus_key: 1}", 6, 6, 1, done, task.get()), ConfigError);
  }
}

TEST_CASE("norm: auto is gain * sqrt(rows), a number is exact, none keeps the raw scale", "[init]") {
  for (const char* name : {"spectral", "orthogonal", "identity"}) {
    INFO(name);
    const torch::Tensor w = build_matrix(std::string("{name: ") + name + "}", 50, 40);
    REQUIRE(w.norm().item<double>() == Approx(1.25 * std::sqrt(50.0)).epsilon(1e-12));
    const torch::Tensor v = build_matrix(std::string("{name: ") + name + ", norm: 3.5}", 50, 40);
    REQUIRE(v.norm().item<double>() == Approx(3.5).epsilon(1e-12));
    const torch::Tensor g = build_matrix(std::string("{name: ") + name + ", gain: 2}", 50, 40);
    REQUIRE(g.norm().item<double>() == Approx(2 * std::sqrt(50.0)).epsilon(1e-12));
  }
  REQUIRE(build_matrix("{name: identity, norm: none}", 4, 4).equal(torch::eye(4, torch::kDouble)));
  // gaussian keeps its raw draw by default (the reference), and takes norm: auto on request.
  REQUIRE(build_matrix("{name: gaussian, norm: auto}", 30, 30).norm().item<double>() ==
          Approx(1.25 * std::sqrt(30.0)).epsilon(1e-12));
  REQUIRE_THROWS_WITH(build_matrix("{name: orthogonal, norm: -1}", 4, 4),
                      Contains("init.W.norm must be a number > 0, auto, none, {spectral_radius: r}, {spectral_norm: s} or "
                               "{matched_loss: SPEC}, got -1"));
}

TEST_CASE("spectral hits a target effective rank within 1%, or exact singular values", "[init]") {
  for (const char* profile : {"power_law", "exponential"}) {
    for (double target : {1.5, 10.0, 30.0, 150.0}) {
      INFO(profile << " effective rank " << target);
      const torch::Tensor w = build_matrix(std::string("{name: spectral, profile: ") + profile +
                                               ", effective_rank: " + std::to_string(target) + "}",
                                           200, 200);
      REQUIRE(std::abs(erank(w) - target) <= 0.01 * target);
    }
  }
  const torch::Tensor w = build_matrix("{name: spectral, profile: list, values: [3, 2, 1], norm: none}", 10, 8);
  const auto m = metrics::spectrum_measures(w);
  REQUIRE(m.rank == 3);
  REQUIRE(m.singular_values[0] == Approx(3.0).epsilon(1e-12));
  REQUIRE(m.singular_values[2] == Approx(1.0).epsilon(1e-12));
  REQUIRE_THROWS_WITH(build_matrix("{name: spectral, gamma: 2, effective_rank: 5}", 10, 10),
                      Contains("replaces gamma and decay"));
  REQUIRE_THROWS_WITH(build_matrix("{name: spectral, decay: 2}", 10, 10),
                      Contains("init.W.decay applies only to profile: exponential"));
}

TEST_CASE("orthogonal and identity are what they say", "[init]") {
  const torch::Tensor q = build_matrix("{name: orthogonal, norm: none}", 30, 20);
  REQUIRE(testing::max_abs_diff(torch::matmul(q.t(), q), torch::eye(20, torch::kDouble)) < 1e-12);
  const torch::Tensor i = build_matrix("{name: identity, gain: 1}", 5, 5);  // norm auto: sqrt(5)
  REQUIRE(testing::max_abs_diff(i, torch::eye(5, torch::kDouble)) < 1e-12);
}

TEST_CASE("structure controls keep exactly what they promise", "[init]") {
  const std::string base = "{name: spectral, effective_rank: 8}";
  const torch::Tensor w = build_matrix(base, 40, 30, 5);
  // Wrappers draw the base from the same stream first, so the same seed gives the same base.
  const torch::Tensor shuffled = build_matrix("{name: shuffled, base: " + base + "}", 40, 30, 5);
  REQUIRE(torch::equal(std::get<0>(shuffled.reshape({-1}).sort()), std::get<0>(w.reshape({-1}).sort())));
  REQUIRE_FALSE(torch::equal(shuffled, w));
  REQUIRE(erank(shuffled) > 2 * erank(w));  // structure destroyed

  const torch::Tensor matched = build_matrix("{name: spectrum_matched, base: " + base + "}", 40, 30, 5);
  const auto a = metrics::spectrum_measures(w), b = metrics::spectrum_measures(matched);
  for (std::size_t k = 0; k < a.singular_values.size(); ++k) {
    REQUIRE(b.singular_values[k] == Approx(a.singular_values[k]).margin(1e-10));
  }
  REQUIRE(testing::max_abs_diff(matched, w) > 0.1);

  const torch::Tensor top = build_matrix("{name: low_rank_of, rank: 3, base: " + base + "}", 40, 30, 5);
  const torch::Tensor expected = init::scaled_to_norm(init::truncate_rank(w, 3), w.norm().item<double>());
  REQUIRE(testing::max_abs_diff(top, expected) < 1e-10);
  REQUIRE(metrics::spectrum_measures(top).rank == 3);
}

TEST_CASE("connectome: files, orientation, transforms, Dale signs, selection and embedding", "[init]") {
  testing::TempDir tmp;
  const torch::Tensor m = torch::tensor({0.0, 2.0, 0.0, 1.0, 0.0, 3.0, 4.0, 0.0, 5.0}, torch::kDouble).reshape({3, 3});
  write_npy(tmp.file("m.npy"), m);
  testing::write_text(tmp.file("m.csv"), "0, 2, 0\n1, 0, 3\n4, 0, 5\n");
  testing::write_text(tmp.file("e.csv"), "pre,post,weight\n1,0,2\n0,1,1\n2,1,3\n0,2,4\n2,2,5\n");
  testing::write_text(tmp.file("names.txt"), "[u'A',\n u'B',\n u'C']\n");
  testing::write_text(tmp.file("en.csv"), "pre,post,weight\nB,A,2\nA,B,1\nC,B,3\nA,C,4\nC,C,5\n");
  testing::write_text(tmp.file("mask.txt"), "0\n0\n1\n");
  const std::string raw = ", norm: none}";
  for (const std::string& f : {tmp.file("m.npy"), tmp.file("m.csv"), tmp.file("e.csv")}) {
    INFO(f);
    REQUIRE(torch::equal(build_matrix("{name: connectome, file: " + f + raw, 3, 3), m));
  }
  REQUIRE(torch::equal(build_matrix("{name: connectome, file: " + tmp.file("en.csv") + ", names_file: " +
                                        tmp.file("names.txt") + raw, 3, 3), m));
  REQUIRE(torch::equal(build_matrix("{name: connectome, orientation: pre_post, file: " + tmp.file("m.npy") + raw, 3, 3),
                       m.t()));
  REQUIRE(torch::equal(build_matrix("{name: connectome, transform: binary, file: " + tmp.file("m.npy") + raw, 3, 3),
                       m.ne(0).to(torch::kDouble)));
  REQUIRE(torch::allclose(build_matrix("{name: connectome, transform: log1p, file: " + tmp.file("m.npy") + raw, 3, 3),
                          torch::log1p(m)));
  // Dale: neuron 2 (a column) is inhibitory: its outgoing weights turn negative.
  const torch::Tensor dale = build_matrix("{name: connectome, inhibitory_mask: " + tmp.file("mask.txt") +
                                              ", file: " + tmp.file("m.npy") + raw, 3, 3);
  REQUIRE(torch::equal(dale.select(1, 2), -m.select(1, 2)));
  REQUIRE(torch::equal(dale.slice(1, 0, 2), m.slice(1, 0, 2)));
  // Selection and embedding.
  REQUIRE(torch::equal(build_matrix("{name: connectome, select: first, file: " + tmp.file("m.npy") + raw, 2, 2),
                       m.slice(0, 0, 2).slice(1, 0, 2)));
  // A 30,000-character line after an unclosed quote (std::regex overflowed the stack on it):
  // no quoted name on that line, so it is read bare; the next line's quoted name still is.
  testing::write_text(tmp.file("long_names.txt"), "'" + std::string(30000, 'a') + "\n'B' \"C\"\n");
  const std::vector<std::string> long_names = init::load_names(tmp.file("long_names.txt"));
  REQUIRE(long_names.size() == 2);
  REQUIRE(long_names[0] == "'" + std::string(30000, 'a'));
  REQUIRE(long_names[1] == "B");
  const torch::Tensor named = build_matrix("{name: connectome, select: names, neurons: [C, A], names_file: " +
                                               tmp.file("names.txt") + ", file: " + tmp.file("m.npy") + raw, 2, 2);
  REQUIRE(named[0][0].item<double>() == 5.0);  // C -> C
  REQUIRE(named[0][1].item<double>() == 4.0);  // A -> C
  const torch::Tensor picked = build_matrix("{name: connectome, select: random, file: " + tmp.file("m.npy") + raw, 2, 2);
  REQUIRE(picked.sum().item<double>() > 0);
  const torch::Tensor embedded = build_matrix("{name: connectome, embed: true, file: " + tmp.file("m.npy") + raw, 5, 5);
  REQUIRE(torch::equal(embedded.slice(0, 0, 3).slice(1, 0, 3), m));
  REQUIRE(embedded.slice(0, 3).abs().sum().item<double>() == 0.0);
}

TEST_CASE("connectome: bad files and size mismatches are config errors naming the file", "[init]") {
  testing::TempDir tmp;
  write_npy(tmp.file("rect.npy"), torch::ones({3, 4}));
  write_npy(tmp.file("nan.npy"), torch::tensor({1.0, std::nan(""), 0.0, 1.0}).reshape({2, 2}));
  write_npy(tmp.file("ok.npy"), torch::ones({3, 3}));
  const std::string bytes = testing::read_text(tmp.file("ok.npy"));
  testing::write_text(tmp.file("cut.npy"), bytes.substr(0, bytes.size() - 5));
  testing::write_text(tmp.file("ragged.csv"), "1, 2\n3\n");
  auto error = [&](const std::string& options, int64_t n = 3) {
    try {
      build_matrix("{name: connectome, " + options + "}", n, n);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  REQUIRE_THAT(error("file: " + tmp.file("rect.npy")), Contains("holds a 3 x 4 matrix; a connectome must be square"));
  REQUIRE_THAT(error("file: " + tmp.file("nan.npy")), Contains("nan.npy: entry [0, 1] is NaN"));
  REQUIRE_THAT(error("file: " + tmp.file("cut.npy")), Contains("cut.npy: truncated .npy data"));
  REQUIRE_THAT(error("file: " + tmp.file("missing.npy")), Contains("missing.npy: no such file (paths in a config file "
                                                                  "are relative to it, on the command line to the "
                                                                  "working directory; the data richlazy ships is in "
                                                                  "data/ of its source tree"));
  // A file of richlazy's own data folders says where that data comes from.
  REQUIRE_THAT(error("file: " + tmp.file("celegans/Gs.npy")),
               Contains("celegans/Gs.npy: no such file (the C. elegans connectome of Varshney et al. 2011, as "
                        "packaged by Kim et al. 2019 ships with richlazy: data/celegans/ in its source tree"));
  REQUIRE_THAT(error("file: " + tmp.file("ragged.csv")), Contains("ragged.csv:2: 1 columns, but the first row has 2"));
  REQUIRE_THAT(error("file: " + tmp.file("ok.npy"), 2), Contains("select is needed: the connectome has 3 neurons but W is 2 x 2"));
  REQUIRE_THAT(error("file: " + tmp.file("ok.npy"), 4), Contains("embed is needed"));
}

TEST_CASE("connectome: the real C. elegans data with Dale signs and its controls", "[init]") {
  REQUIRE(fs::exists(data("celegans/Gs.npy")));  // the data ships in data/
  const std::string c = "{name: connectome, file: " + data("celegans/Gs.npy") +
                        ", inhibitory_mask: " + data("celegans/emask.npy") + "}";
  const torch::Tensor w = build_matrix(c, 279, 279);
  const auto m = metrics::spectrum_measures(w);
  REQUIRE(m.rank == 260);                                // SOURCE.md
  REQUIRE(m.roy_vetterli == Approx(127.5).margin(0.05));  // SOURCE.md: 127.5 (signs do not change it)
  REQUIRE(m.frobenius_norm == Approx(1.25 * std::sqrt(279.0)).epsilon(1e-12));
  const torch::Tensor mask = read_npy(data("celegans/emask.npy")).reshape({-1}).to(torch::kBool);
  REQUIRE(w.index({torch::indexing::Slice(), mask}).le(0).all().item<bool>());
  REQUIRE(w.index({torch::indexing::Slice(), mask.logical_not()}).ge(0).all().item<bool>());
  const torch::Tensor shuffled = build_matrix("{name: shuffled, base: " + c + "}", 279, 279);
  REQUIRE(erank(shuffled) == Approx(191.7).margin(5.0));  // SOURCE.md, one shuffle
}

TEST_CASE("cell types: connection frequencies and class fractions follow the table", "[init]") {
  testing::TempDir tmp;
  testing::write_text(tmp.file("t.yaml"),
                      "classes:\n  - {name: e, fraction: 0.7}\n  - {name: i, fraction: 0.3}\n"
                      "connection_probability:\n  e: [0.2, 0.5]\n  i: [0.6, 0.1]\n"
                      "synaptic_weight:\n  e: [1.5, 2.0]\n  i: [-3.0, -1.0]\n");
  const init::CellTypeTable table = init::load_cell_types(tmp.file("t.yaml"));
  at::Generator gen = make_generator(8);
  const int64_t n = 2000;
  const auto s = init::sample_cell_types(table, n, false, gen);
  const double frac_e = s.labels.eq(0).to(torch::kDouble).mean().item<double>();
  REQUIRE(std::abs(frac_e - 0.7) < 5 * std::sqrt(0.7 * 0.3 / n));
  // W[post, pre]: pairs with pre class a and post class b connect with p[a][b].
  const double p[2][2] = {{0.2, 0.5}, {0.6, 0.1}}, w[2][2] = {{1.5, 2.0}, {-3.0, -1.0}};
  for (int64_t a = 0; a < 2; ++a) {
    for (int64_t b = 0; b < 2; ++b) {
      INFO("pre " << a << " post " << b);
      const torch::Tensor post = s.labels.eq(b), pre = s.labels.eq(a);
      const torch::Tensor block = s.matrix.index({post}).index({torch::indexing::Slice(), pre});
      const double pairs = static_cast<double>(block.numel());
      const double freq = block.ne(0).to(torch::kDouble).mean().item<double>();
      REQUIRE(std::abs(freq - p[a][b]) < 5 * std::sqrt(p[a][b] * (1 - p[a][b]) / pairs));
      REQUIRE(torch::all(block.eq(0).logical_or(block.eq(w[a][b]))).item<bool>());
    }
  }
  // Expected values: an exactly low-rank block matrix, p * w.
  const auto e = init::sample_cell_types(table, 200, true, gen);
  REQUIRE(metrics::spectrum_measures(e.matrix).rank <= 2);
  REQUIRE_THROWS_WITH(init::load_cell_types(data("billeh_v1/SOURCE.md")), Contains("SOURCE.md"));
  const auto v1 = init::load_cell_types(data("billeh_v1/v1_cell_classes.yaml"));
  REQUIRE(v1.names.size() == 17);
  REQUIRE(metrics::spectrum_measures(init::sample_cell_types(v1, 300, true, gen).matrix).rank <= 17);
}

TEST_CASE("connectome controls: column_shuffled, rewired and outlier_removed keep what they promise", "[init]") {
  const std::string cel = "{name: connectome, file: " + data("celegans/Gs.npy") + ", inhibitory_mask: " +
                          data("celegans/emask.npy") + "}";
  const torch::Tensor w = build_matrix(cel, 279, 279, 5);
  const int64_t n = 279;
  REQUIRE(torch::diagonal(w).abs().sum().item<double>() == 0);  // no self-loops in the data
  auto nonzero = [](const torch::Tensor& m) { return m.ne(0); };

  // column_shuffled: each column keeps its entries (sorted) and sum, the diagonal stays 0,
  // and most entries have moved.
  const torch::Tensor c = build_matrix("{name: column_shuffled, base: " + cel + "}", n, n, 5);
  REQUIRE(torch::equal(std::get<0>(torch::sort(c, 0)), std::get<0>(torch::sort(w, 0))));
  REQUIRE(testing::max_abs_diff(c.sum(0), w.sum(0)) < 1e-9);
  REQUIRE(torch::diagonal(c).abs().sum().item<double>() == 0);
  const double moved = (nonzero(c) & nonzero(w).logical_not()).sum().item<double>() / nonzero(w).sum().item<double>();
  REQUIRE(moved > 0.8);
  // In-degrees are not kept: the most-targeted neuron loses its inputs.
  REQUIRE_FALSE(torch::equal(nonzero(c).sum(1), nonzero(w).sum(1)));

  // rewired: in- and out-degrees of every neuron and each column's weights are kept, no
  // self-loop appears, and most edges now join other neurons.
  const torch::Tensor r = build_matrix("{name: rewired, base: " + cel + "}", n, n, 5);
  REQUIRE(torch::equal(nonzero(r).sum(0), nonzero(w).sum(0)));  // out-degree (columns: presynaptic)
  REQUIRE(torch::equal(nonzero(r).sum(1), nonzero(w).sum(1)));  // in-degree
  REQUIRE(torch::equal(std::get<0>(torch::sort(r, 0)), std::get<0>(torch::sort(w, 0))));
  REQUIRE(torch::diagonal(r).abs().sum().item<double>() == 0);
  const double rewired = (nonzero(r) & nonzero(w).logical_not()).sum().item<double>() / nonzero(w).sum().item<double>();
  REQUIRE(rewired > 0.5);
  // The same seed rewires the same way; another seed differently.
  REQUIRE(torch::equal(r, build_matrix("{name: rewired, base: " + cel + "}", n, n, 5)));
  REQUIRE_FALSE(torch::equal(r, build_matrix("{name: rewired, base: " + cel + "}", n, n, 6)));

  // outlier_removed, deflate: the eigenvalues are the base's with the outlier set to 0
  // (compared as sorted moduli), and its spectral radius is the second |eigenvalue|.
  const torch::Tensor d = build_matrix("{name: outlier_removed, base: " + cel + ", norm: none}", n, n, 5);
  const torch::Tensor before = std::get<0>(torch::sort(torch::linalg_eigvals(w).abs(), 0, /*descending=*/true));
  const torch::Tensor after = std::get<0>(torch::sort(torch::linalg_eigvals(d).abs(), 0, /*descending=*/true));
  // The Dale-signed data's top eigenvalue is simple (2.65 against 2.02 for the next, at norm auto).
  REQUIRE(before[0].item<double>() > 1.2 * before[1].item<double>());
  REQUIRE(after[0].item<double>() == Approx(before[1].item<double>()).epsilon(1e-6));
  REQUIRE(testing::max_abs_diff(after.slice(0, 0, n - 1), before.slice(0, 1, n)) < 1e-6 * before[0].item<double>());
  // ... and method: mean subtracts the mean entry.
  const torch::Tensor m = build_matrix("{name: outlier_removed, method: mean, base: " + cel + ", norm: none}", n, n, 5);
  REQUIRE(testing::max_abs_diff(m, w - w.mean()) < 1e-12);
  REQUIRE(std::abs(m.mean().item<double>()) < 1e-12);
  REQUIRE_THROWS_WITH(build("{name: rewired, base: {name: gaussian}}", 4, 5), Contains("rewired needs a square matrix"));
}

TEST_CASE("io_aligned_low_rank: low_rank's singular values, vectors along readout and input", "[init]") {
  at::Generator g = make_generator(4);
  const std::map<std::string, torch::Tensor> done{{"W_in", torch::randn({50, 3}, g, torch::kDouble)},
                                                  {"W_out", torch::randn({3, 50}, g, torch::kDouble)}};
  for (int64_t r : {1, 3, 10}) {
    INFO("rank " << r);
    const Built aligned = build("{name: io_aligned_low_rank, rank: " + std::to_string(r) + "}", 50, 50, 9, done);
    REQUIRE(aligned.init->depends_on() == std::vector<std::string>{"W_in", "W_out"});
    const torch::Tensor random = build_matrix("{name: low_rank, rank: " + std::to_string(r) + "}", 50, 50, 9);
    const auto a = metrics::spectrum_measures(aligned.matrix), b = metrics::spectrum_measures(random);
    REQUIRE(a.rank == r);
    for (int64_t k = 0; k < r; ++k) REQUIRE(a.singular_values[k] == Approx(b.singular_values[k]).epsilon(1e-10));
    // Up to rank 3 the column space lies in span(W_out rows), the row space in span(W_in columns).
    const int64_t k = std::min<int64_t>(r, 3);
    const auto [u, s, vh] = torch::linalg_svd(aligned.matrix, false);
    const auto proj = [](const torch::Tensor& basis_of, const torch::Tensor& x) {
      const torch::Tensor q = std::get<0>(torch::linalg_qr(basis_of));
      return torch::matmul(q, torch::matmul(q.t(), x));
    };
    const torch::Tensor uk = u.slice(1, 0, k), vk = vh.slice(0, 0, k).t();
    REQUIRE(testing::max_abs_diff(proj(done.at("W_out").t(), uk), uk) < 1e-8);
    REQUIRE(testing::max_abs_diff(proj(done.at("W_in"), vk), vk) < 1e-8);
  }
  REQUIRE_THROWS_WITH(build("{name: io_aligned_low_rank, rank: 1, input: W_nope}", 50, 50, 9, done),
                      Contains("init.W.input must name a parameter of the model"));
  // The old name says what it became and where the solution-aligned init is.
  REQUIRE_THROWS_WITH(build("{name: aligned_low_rank, rank: 1}", 50, 50, 9, done),
                      Contains("init.W.name names the retired initializer 'aligned_low_rank': it is now "
                               "io_aligned_low_rank (same construction)") &&
                          Contains("solution_aligned") && Contains("activity_aligned_low_rank"));
}

TEST_CASE("activity_aligned_low_rank: random directions inside the initial activity's top principal subspace",
          "[init]") {
  testing::TempDir tmp;
  testing::write_text(tmp.file("a.yaml"), R"(task: {name: 2AF}
model: {name: ctrnn, hidden_size: 40}
init:
  W_rec: {name: activity_aligned_low_rank, rank: 2, pcs: 5, trials: 30}
)");
  train::ExperimentOptions o;
  o.config_path = tmp.file("a.yaml");
  o.out_dir = tmp.file("out");
  const auto plan = train::plan_experiment(o, registries());
  const train::RunConfig& rc = plan.runs.front().config;
  const auto model = rc.model->build();
  init::apply_initializers(*model, rc.init, rc.seed);
  const torch::Tensor w = model->weight("W_rec")[0].to(torch::kDouble);
  // Independently: the same stream's reference draw and trials, the network with that draw
  // as its recurrent weight, and the principal directions from the eigenvectors of the
  // activity's covariance (not an SVD of the activity, as the initializer does).
  at::Generator gen = stream_generator(rc.seed, "init/W_rec");
  const torch::Tensor g = init::gaussian_draw(40, 40, 1.25, gen);
  const tasks::TrialBatch trials = tasks::stack_members({rc.task->sample(30, gen)});
  const auto reference = rc.model->build();
  {
    torch::NoGradGuard no_grad;
    for (const char* name : {"W_in", "W_out"}) reference->weight(name).copy_(model->weight(name));
    reference->weight("W_rec")[0].copy_(g);
  }
  torch::Tensor x = reference->forward(trials.inputs).hidden.detach().to(torch::kDouble).reshape({-1, 40});
  x = x - x.mean(0, true);
  const auto [evals, evecs] = torch::linalg_eigh(torch::matmul(x.t(), x));
  const torch::Tensor top = evecs.slice(1, 35, 40);  // ascending order: the last five
  const torch::Tensor projector = torch::matmul(top, top.t());
  const auto [u, s, vh] = torch::linalg_svd(w, false);
  REQUIRE(metrics::spectrum_measures(w).rank == 2);
  const torch::Tensor u2 = u.slice(1, 0, 2), v2 = vh.slice(0, 0, 2).t();
  REQUIRE(testing::max_abs_diff(torch::matmul(projector, u2), u2) < 1e-4);  // float32 weights
  REQUIRE(testing::max_abs_diff(torch::matmul(projector, v2), v2) < 1e-4);
  // The singular values are low_rank's of the same draw, at the draw's Frobenius norm.
  const torch::Tensor kept = torch::linalg_svdvals(g).slice(0, 0, 2);
  const torch::Tensor expected = kept * (g.norm() / kept.norm());
  REQUIRE(testing::max_abs_diff(s.slice(0, 0, 2), expected) < 1e-4);
  // Left and right directions are drawn independently, so W is not symmetric.
  REQUIRE(testing::max_abs_diff(w, w.t()) > 1e-2);

  // Bad options and uses: one located line each.
  o.sets = {"init.W_rec.pcs=1"};
  REQUIRE_THROWS_WITH(train::plan_experiment(o, registries()), Contains("init.W_rec.pcs must be an integer in [2, 40], got 1"));
  o.sets = {"init.W_rec.pcs=41"};
  REQUIRE_THROWS_WITH(train::plan_experiment(o, registries()), Contains("init.W_rec.pcs must be an integer in [2, 40], got 41"));
  o.sets = {"init.W_rec.pcs=null", "init.W_rec.rank=41"};
  REQUIRE_THROWS_WITH(train::plan_experiment(o, registries()), Contains("init.W_rec.rank must be an integer in [1, 40], got 41"));
  const auto spec = testing::run_richlazy("init describe --spec '{name: activity_aligned_low_rank, rank: 2}'");
  REQUIRE(spec.status == 2);
  REQUIRE_THAT(spec.err, Contains("describe it with --config, not --spec"));
}

TEST_CASE("from_weights truncates a saved matrix and teacher_aligned lies along beta", "[init]") {
  testing::TempDir tmp;
  const torch::Tensor a = torch::randn({20, 20}, torch::kDouble), b = torch::randn({20, 20}, torch::kDouble);
  write_npy(tmp.file("a.npy"), a);
  write_npy(tmp.file("b.npy"), b);
  const torch::Tensor w = build_matrix("{name: from_weights, file: " + tmp.file("a.npy") + ", subtract: " +
                                           tmp.file("b.npy") + ", rank: 4, norm: none}", 20, 20);
  REQUIRE(testing::max_abs_diff(w, init::truncate_rank(a.to(torch::kFloat).to(torch::kDouble) -
                                                           b.to(torch::kFloat).to(torch::kDouble), 4)) < 1e-6);
  REQUIRE_THROWS_WITH(build_matrix("{name: from_weights, file: " + tmp.file("a.npy") + "}", 10, 10),
                      Contains("holds a 20 x 20 matrix, but W is 10 x 10"));

  Params tp = testing::params_from("{name: teacher_student, dim: 12, kappa: 5}", "task");
  const auto task = registries().tasks.create(tp);
  const auto& ts = dynamic_cast<const tasks::TeacherStudent&>(*task);
  const torch::Tensor w1 = build("{name: teacher_aligned}", 30, 12, 2, {}, task.get()).matrix;
  REQUIRE(metrics::spectrum_measures(w1).rank == 1);
  const torch::Tensor beta = ts.beta() / ts.beta().norm();
  // Every row lies along beta: W_1 (I - beta beta^T) = 0.
  REQUIRE(torch::matmul(w1, torch::eye(12, torch::kDouble) - torch::outer(beta, beta)).abs().max().item<double>() < 1e-12);
  REQUIRE(w1.norm().item<double>() == Approx(0.1 * std::sqrt(30.0)).epsilon(1e-12));
  const torch::Tensor partial = build("{name: teacher_aligned, partial: true}", 30, 12, 2, {}, task.get()).matrix;
  const torch::Tensor row = partial[0] / partial[0].norm();
  REQUIRE(std::abs(torch::dot(row, beta).item<double>()) < 1.0 - 1e-6);  // not fully aligned
  REQUIRE_THROWS_WITH(build_matrix("{name: teacher_aligned}", 30, 12), Contains("teacher_aligned needs a task with a linear teacher (teacher_student)"));
  // A task without one says so by name.
  Params two_af_spec = testing::params_from("{name: 2AF}", "task");
  const auto two_af = registries().tasks.create(two_af_spec);
  REQUIRE_THROWS_WITH(build("{name: teacher_aligned}", 30, 12, 3, {}, two_af.get()),
                      Contains("needs a task with a linear teacher (teacher_student); 2AF has none"));
}

TEST_CASE("data paths in a config resolve relative to the config file", "[init]") {
  testing::TempDir tmp;
  fs::create_directories(tmp.file("exp/data"));
  write_npy(tmp.file("exp/data/w.npy"), torch::eye(8));
  testing::write_text(tmp.file("exp/c.yaml"),
                      "model: {hidden_size: 8}\ninit: {W_rec: {name: connectome, file: data/w.npy}}\n");
  train::ExperimentOptions o;
  o.config_path = tmp.file("exp/c.yaml");
  o.out_dir = tmp.file("out");
  REQUIRE_NOTHROW(train::plan_experiment(o, registries()));
}

// ---- issue 12, item 6: init describe takes its size from the matrix file -----------------

TEST_CASE("init describe sizes a file-based initializer by its file, and names a non-square file", "[init]") {
  testing::TempDir tmp;
  write_npy(tmp.file("c7.npy"), torch::rand({7, 7}, torch::kDouble) + 0.1);
  write_npy(tmp.file("rect.npy"), torch::ones({3, 4}, torch::kDouble));
  write_npy(tmp.file("w64.npy"), torch::randn({6, 4}, torch::kDouble));
  const std::string bin = testing::richlazy_binary();
  auto describe = [&](const std::string& spec, const std::string& extra = "") {
    return testing::run_command(bin + " init describe --spec '" + spec + "' --json " + tmp.file("d.json") + " " + extra);
  };
  auto shape = [&]() {
    const std::string j = testing::read_text(tmp.file("d.json"));
    const auto at = j.find("\"shape\"");
    REQUIRE(at != std::string::npos);
    std::string s = j.substr(at, j.find(']', at) - at + 1);
    s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\n'; }), s.end());
    return s;
  };

  // No --size: the connectome's own 7 neurons (it used to ask for select/embed at 300).
  auto r = describe("{name: connectome, file: " + tmp.file("c7.npy") + "}");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  REQUIRE(shape() == "\"shape\":[7,7]");
  REQUIRE_THAT(r.out, Contains("W_rec [7 x 7]"));
  // A wrapper of a file-based initializer: its base's file.
  r = describe("{name: shuffled, base: {name: connectome, file: " + tmp.file("c7.npy") + "}, norm: auto}");
  REQUIRE(r.status == 0);
  REQUIRE(shape() == "\"shape\":[7,7]");
  // from_weights takes any matrix, square or not: its shape.
  r = describe("{name: from_weights, file: " + tmp.file("w64.npy") + ", norm: none}");
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(shape() == "\"shape\":[6,4]");
  // --size still wins; no file: 300 as before.
  r = describe("{name: connectome, file: " + tmp.file("c7.npy") + ", embed: true}", "--size 9");
  REQUIRE(r.status == 0);
  REQUIRE(shape() == "\"shape\":[9,9]");
  r = describe("{name: gaussian}");
  REQUIRE(r.status == 0);
  REQUIRE(shape() == "\"shape\":[300,300]");

  // A non-square connectome file: one line that names the file, with or without --size.
  for (const std::string extra : {"", "--size 3"}) {
    INFO(extra);
    r = describe("{name: connectome, file: " + tmp.file("rect.npy") + "}", extra);
    REQUIRE(r.status == 2);
    REQUIRE_THAT(r.err, Contains(tmp.file("rect.npy") + " holds a 3 x 4 matrix; a connectome must be square"));
    REQUIRE(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  // A file that cannot be read keeps the initializer's own message, located in --spec.
  r = describe("{name: connectome, file: " + tmp.file("missing.npy") + "}");
  REQUIRE(r.status == 2);
  REQUIRE_THAT(r.err, Contains("missing.npy: no such file"));
}
