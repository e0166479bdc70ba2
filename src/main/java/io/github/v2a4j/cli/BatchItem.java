package io.github.v2a4j.cli;

import java.nio.file.Path;

/**
 * One video of a batch and what it overrides of the command line's options (null: not overridden).
 *
 * @param source         where the item came from, for messages ({@code "manifest.csv line 3"}, the video's name)
 * @param video          the input video
 * @param out            the output video
 * @param prompt         the prompt, or null
 * @param negativePrompt the negative prompt, or null
 * @param seed           the seed, or null
 * @param maxDuration    the longest stretch of video used in seconds, or null
 */
record BatchItem(String source, Path video, Path out, String prompt, String negativePrompt, Long seed,
                 Integer maxDuration) {}
