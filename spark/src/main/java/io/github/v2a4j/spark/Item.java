package io.github.v2a4j.spark;

import java.io.Serializable;

/**
 * One manifest row, checked on the driver.
 *
 * @param row      its number in the manifest, from 1 (header excluded)
 * @param video    the input's fully qualified URI (null when the row names none)
 * @param out      the output's fully qualified URI (null when the row names none and there is no --out-dir)
 * @param options  what the row asks for (null when rejected)
 * @param rejected why the row is not processed (null when it is fine): a bad seed, a missing video, a duplicate output…
 */
record Item(long row, String video, String out, ItemOptions options, String rejected) implements Serializable {}
