package io.github.v2a4j.cli;

import io.github.v2a4j.convert.ConvertException;
import io.github.v2a4j.convert.ModelConverter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code v2a convert}: Hugging Face checkpoints → one checked v2a4j model directory. */
@Command(
        name = "convert",
        mixinStandardHelpOptions = true,
        description = {
            "Convert the Hugging Face folders of ai-forever/kandinsky-4-v2a and THUDM/cogvlm2-video-llama3-chat into "
                    + "one v2a4j model directory (unet/, vae/, scheduler/, cogvlm/, manifest.json).",
            "Every tensor name and shape is checked first; all problems are listed in one error and nothing is "
                    + "written. Tensors are streamed, so checkpoints larger than memory convert.",
            "With only --out and --verify, rechecks an existing model directory against its manifest.json."
        })
public final class ConvertCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--kandinsky", paramLabel = "DIR",
            description = "ai-forever/kandinsky-4-v2a folder (with unet/, vae/, scheduler/).")
    Path kandinsky;

    @Option(names = "--cogvlm", paramLabel = "DIR",
            description = "THUDM/cogvlm2-video-llama3-chat folder (model-*.safetensors, model.safetensors.index.json, "
                    + "config.json, tokenizer.json, tokenizer_config.json).")
    Path cogvlm;

    @Option(names = "--out", paramLabel = "MODEL_DIR", required = true,
            description = "Model directory to create (must not exist, or be empty).")
    Path out;

    @Option(names = "--dtype", paramLabel = "f32|bf16|keep", defaultValue = "f32",
            description = "Dtype of the written float tensors (default: ${DEFAULT-VALUE}; f32 is mapped zero-copy at "
                    + "run time, bf16 halves the disk size).")
    String dtype;

    @Option(names = "--verify", description = "Recheck sizes and sha256 of every written file afterwards.")
    boolean verify;

    @Option(names = "--shard-size", paramLabel = "BYTES", hidden = true, defaultValue = "4294967296",
            description = "Largest output weight file.")
    long shardBytes;

    @Override
    public Integer call() {
        var outw = spec.commandLine().getOut();
        if (kandinsky == null && cogvlm == null) {
            if (!verify) throw new ConvertException("give --kandinsky and --cogvlm to convert, or --verify to recheck " + out);
            int n = ModelConverter.verify(out);
            outw.printf("%s: %d files verified%n", out, n);
            return 0;
        }
        if (kandinsky == null || cogvlm == null) throw new ConvertException("convert needs both --kandinsky and --cogvlm");
        ModelConverter.OutDtype d = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32" -> ModelConverter.OutDtype.F32;
            case "bf16" -> ModelConverter.OutDtype.BF16;
            case "keep" -> ModelConverter.OutDtype.KEEP;
            default -> throw new ConvertException("--dtype must be f32, bf16 or keep, not '" + dtype + "'");
        };
        long t0 = System.nanoTime();
        var results = ModelConverter.convert(new ModelConverter.Options(kandinsky, cogvlm, out, d, shardBytes), System.err);
        long bytes = results.stream().mapToLong(ModelConverter.ComponentResult::bytes).sum();
        outw.printf(Locale.ROOT, "%s: converted, %.2f GB of weights in %.1f s%n", out, bytes / 1e9, (System.nanoTime() - t0) / 1e9);
        if (verify) outw.printf("%s: %d files verified%n", out, ModelConverter.verify(out));
        return 0;
    }
}
