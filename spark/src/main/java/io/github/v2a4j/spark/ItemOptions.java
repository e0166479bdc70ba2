package io.github.v2a4j.spark;

import java.io.Serializable;

/**
 * What one manifest row asks for, with the job's settings: the prompts, the seed, the longest stretch of video used,
 * and the denoising steps and guidance scale (job-wide).
 */
public record ItemOptions(String prompt, String negativePrompt, long seed, int maxDurationSec, int steps,
                          float guidance) implements Serializable {}
