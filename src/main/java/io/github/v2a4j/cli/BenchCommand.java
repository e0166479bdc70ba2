package io.github.v2a4j.cli;

import picocli.CommandLine.Command;

/**
 * {@code v2a bench ...}: real-size benchmarks with random weights, each model-level one with a PyTorch twin in
 * reference-tests/bench/; {@code long} runs the whole pipeline over a long video on a model directory.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Real-size benchmarks with random weights (medians, GFLOP/s, peak RSS).",
                "unet, vae, cogvlm and audio have a PyTorch twin in reference-tests/bench/ for a side-by-side run; "
                        + "long runs a long video through the whole pipeline on a model directory."},
        subcommands = {BenchUnetCommand.class, BenchVaeCommand.class, BenchCogvlmCommand.class, BenchAudioCommand.class,
            BenchLongCommand.class})
final class BenchCommand {}
