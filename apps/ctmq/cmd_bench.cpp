// `ctmq bench`: throughput benchmarks that print JSON (our equivalent of `caffe time`).

#include <memory>

#include "cli.h"
#include "ctmq/commands/bench_infer.h"

namespace ctmq::cli {

void add_bench_commands(CLI::App& app, GlobalOptions& globals) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks; each prints JSON");
  bench->require_subcommand(1);

  struct TrainBenchFlags {
    SpecFlags spec;
    int64_t steps = 30;
    int bits = 32;
  };
  auto train = std::make_shared<TrainBenchFlags>();
  CLI::App* train_command =
      bench->add_subcommand("train", "Training images/s of the spec's model, data included");
  train->spec.add_to(*train_command);
  train_command->add_option("--steps", train->steps, "Timed training steps")
      ->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  train_command->add_option("--bits", train->bits, "Weight and activation bits (32 = FP)")
      ->check(CLI::Range(1, 32))
      ->capture_default_str();
  on_run(train_command, [train, &globals] {
    print_json(bench_train(train->spec.resolve(), globals.runtime, train->steps, train->bits));
    return 0;
  });

  struct LoaderBenchFlags {
    SpecFlags spec;
    int64_t threads = 1;
    int64_t images = 512;
  };
  auto loader = std::make_shared<LoaderBenchFlags>();
  CLI::App* loader_command =
      bench->add_subcommand("loader", "Images/s of the spec's training transform");
  loader->spec.add_to(*loader_command);
  CLI::Option* loader_threads =
      loader_command
          ->add_option("--threads", loader->threads,
                       "Decoding threads; without it, ctmq's own --threads where given, else 1")
          ->check(CLI::Range(1, 100000000))
          ->capture_default_str();
  loader_command->add_option("--images", loader->images, "Images to load")
      ->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  on_run(loader_command, [loader, loader_threads, &globals] {
    // As for bench infer: `ctmq --threads T bench loader` decodes with T threads.
    if (loader_threads->count() == 0 && globals.runtime.threads > 0) {
      loader->threads = globals.runtime.threads;
    }
    print_json(bench_loader_command(loader->spec.resolve(), loader->threads, loader->images));
    return 0;
  });

  auto infer = std::make_shared<InferBenchOptions>();
  CLI::App* infer_command = bench->add_subcommand(
      "infer", "Inference images/s of an exported model, float vs. the XNOR engine");
  auto* infer_model = infer_command->add_option_group("model", "What to run (one of)");
  infer_model->add_option("--exported", infer->exported, "A file written by `ctmq export`")
      ->check(CLI::ExistingFile);
  infer_model->add_option("--random", infer->random_arch,
                          "A W1A1 network of this arch (resnet18, resnet20, ...) with random "
                          "weights");
  infer_model->require_option(1);
  infer_command->add_option("--block", infer->random_block, "With --random: basic or bireal")
      ->check(CLI::IsMember({"basic", "bireal"}))
      ->capture_default_str();
  infer_command
      ->add_option("--save-random", infer->save_random,
                   "With --random: also keep the network as PREFIX.ctmqx and PREFIX.onnx, so "
                   "that other runtimes can run the very same one")
      ->type_name("PREFIX");
  infer_command->add_option("--classes", infer->random_classes, "With --random: classes")
      ->check(CLI::Range(2, 100000))
      ->capture_default_str();
  infer_command
      ->add_option("--in-channels", infer->random_in_channels, "With --random: image channels")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  infer_command->add_option("--batch", infer->batch, "Images per forward")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  CLI::Option* infer_threads =
      infer_command
          ->add_option("--threads", infer->threads,
                       "Threads of every engine (LibTorch's and xnor's); without it, ctmq's own "
                       "--threads where given, else 1")
          ->check(CLI::Range(1, 4096))
          ->capture_default_str();
  infer_command
      ->add_option("--size", infer->image_size,
                   "Image height and width (0: 224 for resnet18/34, 28 or 32 else)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  infer_command->add_option("--seconds", infer->seconds, "Timed seconds per engine")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  auto engine_names = std::make_shared<std::string>("all");
  infer_command
      ->add_option("--engine", *engine_names, "float, xnor, or all (float first: the baseline)")
      ->check(CLI::IsMember({"float", "xnor", "all"}))
      ->capture_default_str();
  on_run(infer_command, [infer, engine_names, infer_threads, &globals] {
    if (*engine_names != "all") infer->engines = {*engine_names};
    // `ctmq --threads T bench infer` means T too (0, ctmq's default, is "all cores" for
    // training; a benchmark's default stays one thread, the comparison's baseline).
    if (infer_threads->count() == 0 && globals.runtime.threads > 0) {
      infer->threads = globals.runtime.threads;
    }
    print_json(bench_infer(*infer));
    return 0;
  });

  struct AllReduceBenchFlags {
    int64_t params = 11689512;  // ResNet-18
    double bucket_mib = 4.0;
    int iters = 20;
    DistBackend backend = DistBackend::kAuto;
    int64_t timeout = 300;
  };
  auto all_reduce = std::make_shared<AllReduceBenchFlags>();
  CLI::App* all_reduce_command = bench->add_subcommand(
      "allreduce", "Time of one step's gradient all-reduce; one process per rank (torchrun/Slurm)");
  all_reduce_command->add_option("--params", all_reduce->params, "Gradient floats per step")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  all_reduce_command->add_option("--bucket-mib", all_reduce->bucket_mib, "Bucket size in MiB")
      ->check(CLI::Range(0.001, 4096.0))
      ->capture_default_str();
  all_reduce_command->add_option("--iters", all_reduce->iters, "Timed all-reduces")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  all_reduce_command->add_option("--dist-backend", all_reduce->backend, "auto, gloo or nccl")
      ->transform(
          CLI::CheckedTransformer(std::map<std::string, DistBackend>{{"auto", DistBackend::kAuto},
                                                                     {"gloo", DistBackend::kGloo},
                                                                     {"nccl", DistBackend::kNccl}}))
      ->default_str("auto");
  all_reduce_command
      ->add_option("--dist-timeout", all_reduce->timeout, "Seconds before a stuck collective fails")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  on_run(all_reduce_command, [all_reduce] {
    print_json(bench_all_reduce_command(all_reduce->params, all_reduce->bucket_mib,
                                        all_reduce->iters, all_reduce->backend,
                                        all_reduce->timeout));
    return 0;
  });
}

}  // namespace ctmq::cli
