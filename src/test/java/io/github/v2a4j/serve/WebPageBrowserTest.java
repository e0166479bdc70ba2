package io.github.v2a4j.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.synthetic.DemoModel;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The web page in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}), against the
 * service on the demo model with a token: it asks for the token, uploads {@code assets/sample.mp4}, shows the queue
 * and the progress, and plays the result. Screenshots go to {@code target/browser-test/}.
 *
 * <p>Runs with {@code mvn test -Pbrowser} (what CI runs). Without Chromium it fails, it does not skip.
 * {@code CHROMIUM} and {@code CHROMEDRIVER} override the Debian paths.
 */
@Tag("browser")
class WebPageBrowserTest {
    private static final String TOKEN = "browser-test-token-0123456789";
    private static final Path SHOTS = Path.of("target/browser-test");

    @TempDir
    Path dir;

    @Test
    void uploadsTheDemoVideoWaitsForTheResultAndPlaysIt() throws Exception {
        Path model = dir.resolve("model");
        DemoModel.write(model);
        ServeConfig c = TestServer.config(dir.resolve("work"));
        c = new ServeConfig(c.bind(), 0, c.workDir(), 8, c.maxUpload(), TOKEN, c.resultTtl(), 1, c.shutdownGrace());
        Files.createDirectories(SHOTS);
        try (TestServer s = TestServer.start(c, () -> PipelineClipGenerator.open(model, io.github.v2a4j.nn.Precision.FP32))) {
            WebDriver browser = chromium();
            try {
                browser.get("http://127.0.0.1:" + s.server.port() + "/");
                // the page finds out that the API wants a token and asks for it
                var tokenBox = browser.findElement(By.id("token-box"));
                await(browser, Duration.ofSeconds(20), () -> tokenBox.isDisplayed());
                browser.findElement(By.id("token")).sendKeys(TOKEN);
                browser.findElement(By.id("token-save")).click();

                browser.findElement(By.id("video-file")).sendKeys(TestServer.SAMPLE.toAbsolutePath().toString());
                browser.findElement(By.id("prompt")).sendKeys("rain on a tin roof");
                browser.findElement(By.cssSelector("#job-form summary")).click();
                browser.findElement(By.id("steps")).sendKeys("3");
                browser.findElement(By.id("submit")).click();

                // follow the job as a person would watch it; keep every state and stage the page showed
                JavascriptExecutor js = (JavascriptExecutor) browser;
                Set<String> seen = new LinkedHashSet<>();
                await(browser, Duration.ofMinutes(5), () -> {
                    String shown = (String) js.executeScript("return document.getElementById('state').dataset.state"
                            + " + ': ' + document.getElementById('detail').textContent");
                    seen.add(shown);
                    if (shown.startsWith("failed")) throw new AssertionError("the page shows a failure: " + seen);
                    return shown.startsWith("done") && browser.findElement(By.id("result")).isDisplayed();
                });
                assertThat(seen).anySatisfy(line -> assertThat(line).startsWith("running: denoising "));
                assertThat(browser.findElement(By.id("detail")).getText())
                        .matches("2\\.87 s of audio, made in [0-9.]+ s");

                await(browser, Duration.ofSeconds(30), () -> ((Number) js.executeScript(
                        "return document.getElementById('result-video').readyState")).intValue() >= 2);
                @SuppressWarnings("unchecked")
                Map<String, Object> played = (Map<String, Object>) js.executeAsyncScript("""
                        const done = arguments[arguments.length - 1];
                        const v = document.getElementById('result-video');
                        v.play()
                          .then(() => setTimeout(() => done({time: v.currentTime, duration: v.duration,
                              width: v.videoWidth, height: v.videoHeight, error: null}), 1500))
                          .catch((e) => done({error: String(e)}));
                        """);
                assertThat(played.get("error")).as("play() rejected").isNull();
                assertThat(((Number) played.get("time")).doubleValue()).as("playback advanced").isGreaterThan(0.2);
                assertThat(((Number) played.get("duration")).doubleValue()).isBetween(2.8, 2.95);
                assertThat(((Number) played.get("width")).intValue()).isEqualTo(256);
                assertThat(((Number) played.get("height")).intValue()).isEqualTo(144);
                assertThat(browser.findElement(By.id("download-video")).getAttribute("href")).startsWith("blob:");
                assertThat(((Number) js.executeScript(
                        "return document.getElementById('spectrogram').naturalHeight")).intValue()).isEqualTo(512);

                File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
                Path saved = SHOTS.resolve("v2a-serve-page.png");
                Files.copy(shot.toPath(), saved, StandardCopyOption.REPLACE_EXISTING);
                System.out.println("v2a: screenshot of the page after playing the result: " + saved.toAbsolutePath()
                        + "; states seen: " + seen);
            } finally {
                browser.quit();
            }
        }
    }

    private WebDriver chromium() {
        String binary = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
        String driver = System.getenv().getOrDefault("CHROMEDRIVER", "/usr/bin/chromedriver");
        assertThat(Path.of(binary)).as("Chromium (apt-get install chromium chromium-driver)").isExecutable();
        assertThat(Path.of(driver)).as("ChromeDriver (apt-get install chromium-driver)").isExecutable();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(binary);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + dir.resolve("chromium-profile"), "--window-size=900,1300",
                "--autoplay-policy=no-user-gesture-required", "--mute-audio");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(driver))
                .usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    private static void await(WebDriver browser, Duration timeout, Check check) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                Path saved = SHOTS.resolve("v2a-serve-page-timeout.png");
                Files.copy(((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath(), saved,
                        StandardCopyOption.REPLACE_EXISTING);
                throw new AssertionError("timed out after " + timeout + "; screenshot " + saved.toAbsolutePath());
            }
            Thread.sleep(100);
        }
    }
}
