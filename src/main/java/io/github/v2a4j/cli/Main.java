package io.github.v2a4j.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code v2a} command line: one subcommand per job; errors are one line unless --verbose. */
@Command(
        name = "v2a",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = {
            "Kandinsky-4 Video-to-Audio on the JVM: writes a video back with a generated sound track.",
            "Every layer is checked against tensors from the original PyTorch code (see 'v2a validate')."
        },
        subcommands = {
            GenerateCommand.class,
            ServeCommand.class,
            ValidateCommand.class,
            ConvertCommand.class,
            AudioFromSpectrogramCommand.class,
            SpectrogramFromAudioCommand.class,
            BenchCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (0 ok, 1 error, 2 validation over tolerance). */
    public static int run(String... args) {
        CommandLine cl = commandLine();
        return cl.execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            err.println("v2a: error: " + oneLine(ex));
            // Commands declare their own --verbose; an error that escapes them honours it too.
            if (parsed.originalArgs().contains("--verbose")) ex.printStackTrace(err);
            err.flush();
            return 1;
        });
        return cl;
    }

    /** The message a user sees: the exception's own message, or its type when it has none. */
    static String oneLine(Throwable ex) {
        Throwable t = ex;
        while (t.getMessage() == null && t.getCause() != null) t = t.getCause();
        String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return msg.replace('\n', ' ');
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"v2a4j " + (v == null ? "dev" : v) + " (ND4J 1.0.0-M2.1, CPU)"};
        }
    }
}
