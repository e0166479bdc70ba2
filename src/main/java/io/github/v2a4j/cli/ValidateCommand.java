package io.github.v2a4j.cli;

import io.github.v2a4j.golden.ComparisonReport;
import io.github.v2a4j.golden.GoldenBundle;
import io.github.v2a4j.golden.Validator;
import java.io.PrintWriter;
import java.nio.file.Path;
import io.github.v2a4j.validate.Validators;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code v2a validate BUNDLE_DIR}: runs the Java implementation of the bundle's component on the bundle's inputs and
 * prints the layer-by-layer comparison with the upstream PyTorch tensors.
 */
@Command(name = "validate", mixinStandardHelpOptions = true,
        // Exit 2 means "over tolerance"; picocli's default 2 for a bad command line would be mistaken for it.
        exitCodeOnInvalidInput = 1, exitCodeOnExecutionException = 1,
        description = {"Compare v2a4j with a golden bundle made by the upstream code (reference-tests/bundles/<name>).",
                "Exit status: 0 every tensor within tolerance, 2 some over tolerance, 1 the bundle could not be "
                        + "validated."})
public final class ValidateCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "BUNDLE_DIR", description = "Golden bundle directory (manifest.json, ...).")
    Path bundleDir;

    @Option(names = "--precision", paramLabel = "fp32|bf16", defaultValue = "fp32",
            description = "Run the component's matrix products in this precision; bf16 rows pass when at least as "
                    + "close to the fp32 reference as the original code's own bf16 run (default: ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--all-rows", description = "Print every compared tensor, not only failures and their context.")
    boolean allRows;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    @Spec
    CommandSpec spec;

    private final List<Validator> validators;

    public ValidateCommand() {
        this(Validators.all());
    }

    /** With an explicit validator list (tests, embedding). */
    public ValidateCommand(List<Validator> validators) {
        this.validators = List.copyOf(validators);
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (GoldenBundle bundle = GoldenBundle.open(bundleDir)) {
            Validator v = Validators.find(validators, bundle.component());
            if (v == null) {
                String known = validators.isEmpty() ? "none yet"
                        : validators.stream().map(Validator::component).sorted().collect(Collectors.joining(", "));
                err.println("v2a: error: " + bundleDir + ": no validator for component '" + bundle.component()
                        + "' (known: " + known + ")");
                return 1;
            }
            ComparisonReport report = v.validate(bundle, io.github.v2a4j.nn.Precision.parse(precision));
            out.print(report.format(allRows));
            out.flush();
            return report.passed() ? 0 : 2;
        } catch (RuntimeException | OutOfMemoryError e) {
            err.println("v2a: error: " + oneLine(e));
            if (verbose) e.printStackTrace(err);
            err.flush();
            return 1;
        }
    }

    /** Our own and argument/state exceptions carry messages written for users; others get their type named. */
    static String oneLine(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            m = e.getClass().getSimpleName();
        } else if (!(e instanceof IllegalArgumentException || e instanceof IllegalStateException
                || e instanceof java.io.UncheckedIOException
                || e.getClass().getName().startsWith("io.github.v2a4j."))) {
            m = e.getClass().getSimpleName() + ": " + m;
        }
        return m.replaceAll("\\s*\\R\\s*", " ");
    }
}
