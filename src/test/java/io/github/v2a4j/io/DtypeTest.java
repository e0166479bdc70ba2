package io.github.v2a4j.io;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Scalar dtype conversions against values worked out by hand (IEEE bit patterns). */
class DtypeTest {

    static float bf(short s) {
        return Float.intBitsToFloat((s & 0xffff) << 16);
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertThat(bf(Dtype.floatToBf16(1.0f))).isEqualTo(1.0f);
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even → 1
        assertThat(bf(Dtype.floatToBf16(1.00390625f))).isEqualTo(1.0f);
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties to even → 1 + 2^-6
        assertThat(bf(Dtype.floatToBf16(1.01171875f))).isEqualTo(1.015625f);
        // just above the tie rounds up
        assertThat(bf(Dtype.floatToBf16(Math.nextUp(1.00390625f)))).isEqualTo(1.0078125f);
        assertThat(bf(Dtype.floatToBf16(-2.5f))).isEqualTo(-2.5f);
        assertThat(Float.isNaN(bf(Dtype.floatToBf16(Float.NaN)))).isTrue();
        assertThat(bf(Dtype.floatToBf16(Float.POSITIVE_INFINITY))).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(bf(Dtype.floatToBf16(Float.MAX_VALUE))).isEqualTo(Float.POSITIVE_INFINITY); // as torch
    }

    @Test
    void halfToFloatIsExact() {
        assertThat(Dtype.halfToFloat((short) 0x3c00)).isEqualTo(1.0f);
        assertThat(Dtype.halfToFloat((short) 0xc000)).isEqualTo(-2.0f);
        assertThat(Dtype.halfToFloat((short) 0x7bff)).isEqualTo(65504f);
        assertThat(Dtype.halfToFloat((short) 0x0001)).isEqualTo((float) Math.pow(2, -24)); // smallest subnormal
        assertThat(Dtype.halfToFloat((short) 0x03ff)).isEqualTo(1023 * (float) Math.pow(2, -24));
        assertThat(Dtype.halfToFloat((short) 0x8000)).isEqualTo(-0.0f);
        assertThat(Dtype.halfToFloat((short) 0x7c00)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(Float.isNaN(Dtype.halfToFloat((short) 0x7e00))).isTrue();
    }
}
