package io.github.v2a4j.cli;

import io.github.v2a4j.serve.PipelineClipGenerator;
import io.github.v2a4j.serve.ServeConfig;
import io.github.v2a4j.serve.V2aServer;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code v2a serve}: the model behind an HTTP job queue with a web page. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {
            "Serve the model over HTTP: a persistent job queue (POST /v1/jobs with a video, poll, fetch the result), "
                    + "a web page at /, health, readiness, Prometheus metrics and an OpenAPI document "
                    + "(/openapi.json).",
            "The model is opened once. Jobs run one at a time by default and survive restarts: they live in "
                    + "--work-dir. SIGTERM stops taking jobs and shuts down cleanly."},
        footer = {"", "Example:", "  ./v2a serve --model models/v2a --token-file token.txt --work-dir /var/lib/v2a"})
public final class ServeCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR",
            description = "Model directory made by 'v2a convert' (default: $V2A_MODEL, else the bundled demo model).")
    Path model;

    @Option(names = "--port", defaultValue = "8080", description = "TCP port (default: ${DEFAULT-VALUE}; 0 picks one).")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1", paramLabel = "ADDRESS",
            description = "Address to listen on (default: ${DEFAULT-VALUE}, this machine only).")
    String bind;

    @Option(names = "--work-dir", defaultValue = "v2a-work", paramLabel = "DIR",
            description = "Where jobs, uploads and results are kept across restarts (default: ./${DEFAULT-VALUE}).")
    Path workDir;

    @Option(names = "--max-queue", defaultValue = "16",
            description = "Jobs waiting to run before new ones are answered 429 (default: ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--max-upload-mb", defaultValue = "256",
            description = "Largest video accepted, in MiB (default: ${DEFAULT-VALUE}); larger uploads get 413.")
    int maxUploadMb;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "File holding the bearer token (at least 16 characters) that every endpoint but /healthz "
                    + "and the web page then needs.")
    Path tokenFile;

    @Option(names = "--allow-anonymous",
            description = "Allow --bind to a non-loopback address without --token-file.")
    boolean allowAnonymous;

    @Option(names = "--result-ttl", defaultValue = "24h", paramLabel = "DURATION",
            description = "How long finished jobs and their files are kept (default: ${DEFAULT-VALUE}; 90s, 30m, 7d).")
    String resultTtl;

    @Option(names = "--precision", paramLabel = "fp32|bf16", defaultValue = "fp32",
            description = "Arithmetic of the CogVLM2 and UNet matrix products, as for generate (default: ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--workers", defaultValue = "1",
            description = "Jobs run at once, each with its own opened model (weights are shared memory-mapped "
                    + "files; activations are not) (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--shutdown-grace", defaultValue = "20s", paramLabel = "DURATION",
            description = "On SIGTERM, how long running jobs may take to finish before they are stopped at a step "
                    + "boundary and kept to run again at the next start (default: ${DEFAULT-VALUE}).")
    String shutdownGrace;

    @Override
    public Integer call() throws Exception {
        PrintStream err = System.err;
        org.bytedeco.ffmpeg.global.avutil.av_log_set_level(org.bytedeco.ffmpeg.global.avutil.AV_LOG_FATAL);
        String token = tokenFile == null ? null : readToken(tokenFile, err);
        if (token == null && !allowAnonymous && !isLoopback(bind)) {
            throw new IllegalArgumentException("--bind " + bind + " without --token-file would let anyone who reaches "
                    + "this address submit jobs; give --token-file (or --allow-anonymous)");
        }
        ServeConfig config = new ServeConfig(bind, port, workDir, maxQueue, maxUploadMb * 1024L * 1024L, token,
                ServeConfig.parseDuration(resultTtl), workers, ServeConfig.parseDuration(shutdownGrace));
        Path modelDir = GenerateCommand.modelDir(model, err);
        if (!Files.isDirectory(modelDir)) throw new IllegalArgumentException(modelDir + ": no such model directory");

        io.github.v2a4j.nn.Precision products = io.github.v2a4j.nn.Precision.parse(precision);
        V2aServer server = V2aServer.start(config, () -> PipelineClipGenerator.open(modelDir, products));
        String host = bind.contains(":") ? "[" + bind + "]" : bind;
        err.println("v2a: listening on http://" + host + ":" + server.port() + "/ (work dir " + workDir.toAbsolutePath()
                + (token == null ? ", no token" : ", token required") + "); opening the model " + modelDir + " ...");
        try {
            server.modelOpened().get();
        } catch (ExecutionException e) {
            server.stop();
            throw new IllegalArgumentException("cannot open the model: " + Main.oneLine(e.getCause()), e.getCause());
        }
        // registered once the model is open: a stop before that loses nothing either (every accepted job is on
        // disk, and a job a kill interrupts runs again), it just does not wait
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            err.println("v2a: stopping: no new jobs; a running job gets " + shutdownGrace + " to finish, else it runs "
                    + "again at the next start");
            if (server.stop()) err.println("v2a: stopped");
        }, "v2a-shutdown"));
        err.println("v2a: model open; ready for jobs");
        server.awaitStopped();
        return 0;
    }

    private static String readToken(Path file, PrintStream err) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such token file");
        String token = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (token.isEmpty()) throw new IllegalArgumentException(file + ": the token file is empty");
        if (token.chars().anyMatch(c -> c <= ' ' || c > '~')) {
            throw new IllegalArgumentException(file + ": the token must be printable ASCII without spaces");
        }
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.contains(PosixFilePermission.OTHERS_READ)) {
                err.println("v2a: warning: " + file + " is readable by every user of this machine (chmod 600 it)");
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: nothing to check
        }
        return token;
    }

    private static boolean isLoopback(String address) {
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--bind " + address + ": unknown address");
        }
    }
}
