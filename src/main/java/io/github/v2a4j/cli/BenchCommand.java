package io.github.v2a4j.cli;

import picocli.CommandLine.Command;

/** {@code v2a bench ...}: real-size benchmarks with random weights; each has a PyTorch twin in reference-tests/bench/. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Real-size benchmarks with random weights (medians, GFLOP/s, peak RSS).",
                "Each has a PyTorch twin in reference-tests/bench/ for a side-by-side run."},
        subcommands = {BenchUnetCommand.class, BenchVaeCommand.class, BenchCogvlmCommand.class, BenchAudioCommand.class})
final class BenchCommand {}
