package io.github.v2a4j.unet;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.v2a4j.io.MapSource;
import io.github.v2a4j.nn.Trace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The UNet against the upstream K4 UNet (dump_unet.py: tiny widths, real block structure, CFG batch 2) — every
 * module output this port records, chained from the UNet input (not re-fed with golden inputs), so errors
 * accumulate along the network.
 *
 * <p>Tolerances (max |ours − ref| / max |ref| per tensor), fp32 CPU both sides: every module output ≤ 1e-5 — the
 * summation orders of GEMM/conv kernels differ (oneDNN/OpenBLAS vs torch's) and nothing else; the UNet output
 * ≤ 1e-5 as well.
 */
class UNetGoldenTest {

    static final double TOLERANCE = 1e-5;

    @ParameterizedTest
    @ValueSource(strings = {"unet-tiny", "unet-tiny-oddwidth"})
    void everyModuleMatchesTheReference(String bundle) throws IOException {
        Path dir = io.github.v2a4j.golden.TestBundles.committed(bundle);
        UNetConfig config = UNetConfig.read(dir.resolve("config.json"));
        Map<String, INDArray> weights = TestTensors.read(dir.resolve("weights.safetensors"));
        Map<String, INDArray> io = TestTensors.read(dir.resolve("io.safetensors"));
        Map<String, INDArray> acts = TestTensors.read(dir.resolve("activations.safetensors"));
        JsonObject aliases = JsonParser.parseString(Files.readString(dir.resolve("manifest.json")))
                .getAsJsonObject().getAsJsonObject("aliases");

        UNet unet = UNet.load(config, new MapSource(weights));
        Trace trace = Trace.all();
        INDArray out = unet.forward(io.get("sample"), io.get("timestep").getFloat(0), io.get("encoder_hidden_states"),
                io.get("image_embeds"), trace);

        int compared = 0;
        double worst = 0;
        String worstName = "";
        StringBuilder failures = new StringBuilder();
        for (var e : trace.recorded().entrySet()) {
            String name = e.getKey();
            INDArray ref = acts.get(name);
            if (ref == null && aliases != null && aliases.has(name)) ref = acts.get(aliases.get(name).getAsString());
            if (ref == null) continue;
            assertThat(e.getValue().shape()).as(name).containsExactly(ref.shape());
            double err = TestTensors.relErr(e.getValue(), ref);
            compared++;
            if (err > worst) {
                worst = err;
                worstName = name;
            }
            if (!(err <= TOLERANCE)) failures.append(String.format("%n  %s %.3g", name, err));
        }
        double outErr = TestTensors.relErr(out, io.get("out"));
        System.out.printf("%s: %d module outputs compared, worst %.3g at %s; UNet output %.3g%n",
                bundle, compared, worst, worstName, outErr);
        assertThat(compared).as("module outputs compared").isGreaterThan(200);
        assertThat(failures.toString()).as("modules above " + TOLERANCE).isEmpty();
        assertThat(outErr).as("UNet output").isLessThanOrEqualTo(TOLERANCE);
    }
}
