package io.github.v2a4j.serve;

import io.github.v2a4j.pipeline.Defaults;
import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.pipeline.GenerationOptions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What one job asks for: the options of {@code v2a generate} that a client may set, each bounded so that no request
 * can ask the service for unbounded work or memory.
 *
 * @param maxDuration longest stretch of video used, in seconds (1 to {@link #MAX_DURATION_SEC})
 * @param keepVideo   copy the input's video stream untouched instead of re-timing the used frames to the audio
 */
public record JobOptions(String prompt, String negativePrompt, long seed, int steps, float guidance, int maxDuration,
                         boolean keepVideo) {

    /** Longest prompt, in characters (CogVLM2 keeps the first 100 tokens of it anyway). */
    public static final int MAX_PROMPT_CHARS = 1000;
    /** Most denoising steps one job may ask for (the reference uses 50). */
    public static final int MAX_STEPS = 200;
    public static final float MAX_GUIDANCE = Defaults.GUIDANCE_LIMIT;
    /**
     * Longest stretch of video a job may use, and its default: the reference's 12 s, one latent window. Longer videos
     * cost a CogVLM2 pass and a UNet evaluation per step for every further window, and Griffin-Lim heap in proportion
     * to the length, so a job stays bounded here, unlike {@code v2a generate}, which covers the whole video.
     */
    public static final int MAX_DURATION_SEC = Defaults.WINDOW_SEC;

    /** The multipart field names a client may send besides the video. */
    public static final Set<String> FIELDS =
            Set.of("prompt", "negative_prompt", "seed", "steps", "guidance", "max_duration", "keep_video");

    public JobOptions {
        prompt = checkText("prompt", prompt);
        negativePrompt = checkText("negative_prompt", negativePrompt);
        if (steps < 1 || steps > MAX_STEPS) {
            throw new IllegalArgumentException("steps must be 1 to " + MAX_STEPS + ", got " + steps);
        }
        if (!(guidance > 1f && guidance <= MAX_GUIDANCE)) {
            throw new IllegalArgumentException("guidance must be > 1 and <= " + (int) MAX_GUIDANCE + ", got " + guidance);
        }
        if (maxDuration < 1 || maxDuration > MAX_DURATION_SEC) {
            throw new IllegalArgumentException("max_duration must be 1 to " + MAX_DURATION_SEC
                    + " seconds, got " + maxDuration);
        }
    }

    /** The CLI's defaults: the reference README's prompts, seed 0, 50 steps, guidance 8, 12 s, frames re-timed. */
    public static JobOptions defaults() {
        GenerationOptions d = GenerationOptions.defaults();
        return new JobOptions(d.prompt(), d.negativePrompt(), d.seed(), d.steps(), d.guidance(),
                MAX_DURATION_SEC, false);
    }

    /**
     * Options from form fields; a field not given keeps its default.
     *
     * @throws IllegalArgumentException naming the field, for an unknown field or a value out of bounds
     */
    public static JobOptions fromFields(Map<String, String> fields) {
        for (String name : fields.keySet()) {
            if (!FIELDS.contains(name)) {
                throw new IllegalArgumentException("unknown field '" + name + "' (fields: video, "
                        + String.join(", ", new java.util.TreeSet<>(FIELDS)) + ")");
            }
        }
        JobOptions d = defaults();
        return new JobOptions(
                fields.getOrDefault("prompt", d.prompt),
                fields.getOrDefault("negative_prompt", d.negativePrompt),
                fields.containsKey("seed") ? parseLong("seed", fields.get("seed")) : d.seed,
                fields.containsKey("steps") ? parseInt("steps", fields.get("steps")) : d.steps,
                fields.containsKey("guidance") ? parseFloat("guidance", fields.get("guidance")) : d.guidance,
                fields.containsKey("max_duration") ? parseInt("max_duration", fields.get("max_duration"))
                        : d.maxDuration,
                fields.containsKey("keep_video") ? parseBoolean("keep_video", fields.get("keep_video")) : d.keepVideo);
    }

    /** The pipeline's options for this job. */
    public GenerationOptions generationOptions() {
        return GenerationOptions.defaults().withPrompts(prompt, negativePrompt).withSteps(steps).withGuidance(guidance)
                .withSeed(seed).withMaxDurationSec(maxDuration);
    }

    /** The options as API field names to values (what a job's status shows). */
    public Map<String, Object> asFields() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", prompt);
        m.put("negative_prompt", negativePrompt);
        m.put("seed", seed);
        m.put("steps", steps);
        m.put("guidance", guidance);
        m.put("max_duration", maxDuration);
        m.put("keep_video", keepVideo);
        return m;
    }

    private static String checkText(String field, String text) {
        if (text == null) throw new IllegalArgumentException(field + " is missing");
        if (text.length() > MAX_PROMPT_CHARS) {
            throw new IllegalArgumentException(field + " is longer than " + MAX_PROMPT_CHARS + " characters");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\uFFFD') throw new IllegalArgumentException(field + " is not valid UTF-8");
            if (Character.isISOControl(c) && c != '\n' && c != '\t' && c != '\r') {
                throw new IllegalArgumentException(field + " contains a control character (U+"
                        + String.format("%04X", (int) c) + ")");
            }
        }
        return text;
    }

    private static long parseLong(String field, String value) {
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(field + " must be an integer, got '" + abbreviate(value) + "'");
        }
    }

    private static int parseInt(String field, String value) {
        long v = parseLong(field, value);
        if (v != (int) v) throw new IllegalArgumentException(field + " is out of range: " + abbreviate(value));
        return (int) v;
    }

    private static float parseFloat(String field, String value) {
        try {
            float f = Float.parseFloat(value.strip());
            if (Float.isFinite(f)) return f;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(field + " must be a number, got '" + abbreviate(value) + "'");
    }

    private static boolean parseBoolean(String field, String value) {
        return switch (value.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "1", "on", "yes" -> true;
            case "false", "0", "off", "no", "" -> false;
            default -> throw new IllegalArgumentException(field + " must be true or false, got '" + abbreviate(value) + "'");
        };
    }

    /** Echoes at most a short, printable piece of a bad value. */
    static String abbreviate(String value) {
        String s = value.length() > 40 ? value.substring(0, 40) + "…" : value;
        return s.replaceAll("\\p{Cntrl}", "?");
    }
}
