/*
 * test_zpack.c - zero bytes packed away (state/zpack.h): random strings
 * of every length up to 40 with zeros at every density round-trip; a
 * group's accumulators of small numbers shrink (16 bytes to 7); what the
 * packer would not write (a flagged zero, a bit past the length, a byte
 * after the end, a truncation, a length longer than the bytes allow, a
 * longer varint than needed) is refused.
 */
#include "../tap.h"
#include "state/zpack.h"

static bool unpacks(const uint8_t *p, size_t n, weir_buf *out)
{
    weir_reader_buf r = {p, p + n, false};
    out->len = 0;
    return weir_zunpack(&r, out) == 0 && !r.bad;
}

int main(void)
{
    plan(8);
    weir_buf packed = {0}, back = {0};
    int good = 0, rounds = 0;
    for (size_t n = 0; n <= 40; n++)
        for (unsigned density = 0; density <= 4; density++, rounds++) {
            uint8_t in[40];
            for (size_t i = 0; i < n; i++)
                in[i] = tap_rand() % 4 < density ? (uint8_t)(tap_rand() % 255 + 1) : 0;
            packed.len = 0;
            good += weir_zpack(in, n, &packed) == 0 && unpacks(packed.data, packed.len, &back) && back.len == n &&
                    (n == 0 || !memcmp(back.data, in, n));
        }
    is_int(good, rounds, "strings of 0 to 40 bytes, zeros at every density, round-trip");

    uint8_t accs[16] = {1, 0, 0, 0, 0, 0, 0, 0, 0x40, 0xe2, 0x01, 0, 0, 0, 0, 0}; /* seen = 1, a MAX of 123456 */
    packed.len = 0;
    weir_zpack(accs, sizeof accs, &packed);
    is_int((int)packed.len, 7, "a group's seen bits and a MAX of 123456 take 7 bytes with their length, not 16");

    const uint8_t flagged_zero[] = {2, 0x01, 0};
    const uint8_t past_length[] = {2, 0x07, 1, 2, 3};
    const uint8_t trailing[] = {1, 0x01, 9, 9};
    const uint8_t truncated[] = {3, 0x07, 1, 2};
    const uint8_t too_long[] = {0x80, 0x01, 0x00};
    const uint8_t long_varint[] = {0x81, 0x00, 0x01, 5};
    ok(!unpacks(flagged_zero, sizeof flagged_zero, &back), "a zero byte flagged as not zero is refused");
    ok(!unpacks(past_length, sizeof past_length, &back), "a flag past the length is refused");
    ok(!unpacks(trailing, sizeof trailing, &back), "bytes after the end are refused");
    ok(!unpacks(truncated, sizeof truncated, &back), "a truncated string is refused");
    ok(!unpacks(too_long, sizeof too_long, &back), "a length of more than 8 bytes per packed byte is refused");
    ok(!unpacks(long_varint, sizeof long_varint, &back), "a length written longer than needed is refused");
    weir_buf_free(&packed);
    weir_buf_free(&back);
    return done();
}
