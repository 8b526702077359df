/*
 * test_hash.c - CRC32C and Kafka's murmur2 partitioner against published
 * values and against librdkafka's own partitioner, an independent
 * implementation of the same contract.
 */
#include <librdkafka/rdkafka.h>

#include "../tap.h"
#include "base/crc32c.h"
#include "base/hash.h"


int main(void)
{
    plan(13);

    /* The CRC-32C check value (RFC 3720 appendix B.4 and every implementation). */
    is_int(weir_crc32c(0, "123456789", 9), 0xE3069283u, "crc32c of '123456789'");
    is_int(weir_crc32c_sw(0, "123456789", 9), 0xE3069283u, "table crc32c of '123456789'");
    uint8_t zeros[32] = {0};
    is_int(weir_crc32c(0, zeros, 32), 0x8A9136AAu, "crc32c of 32 zero bytes (RFC 3720)");

    uint8_t buf[4096];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)tap_rand();
    int same = 1;
    for (size_t len = 0; len < sizeof buf; len += 7)
        same &= weir_crc32c(0, buf + (len % 5), len - (len % 5)) == weir_crc32c_sw(0, buf + (len % 5), len - (len % 5));
    ok(same, "hardware and table crc32c agree on every length and alignment");
    ok(weir_crc32c(weir_crc32c(0, buf, 1000), buf + 1000, 3000) == weir_crc32c(0, buf, 4000),
       "crc32c extends incrementally");

    /* Kafka's UtilsTest.testMurmur2 vectors (signed ints in Java). */
    is_int((int32_t)weir_murmur2("21", 2), -973932308, "murmur2('21')");
    is_int((int32_t)weir_murmur2("foobar", 6), -790332482, "murmur2('foobar')");
    is_int((int32_t)weir_murmur2("a-little-bit-long-string", 24), -985981536, "murmur2 24 bytes");
    is_int((int32_t)weir_murmur2("a-little-bit-longer-string", 26), -1486304829, "murmur2 26 bytes");
    is_int((int32_t)weir_murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", 48), -58897971, "murmur2 48 bytes");
    is_int((int32_t)weir_murmur2("abc", 3), 479470107, "murmur2('abc')");

    /* librdkafka's murmur2_random partitioner must choose the same partition
     * for every key (it ignores the topic handle for non-null keys). */
    int agree = 1, checked = 0;
    for (int i = 0; i < 200000; i++) {
        char key[64];
        size_t len = tap_rand() % sizeof key;
        for (size_t k = 0; k < len; k++)
            key[k] = (char)tap_rand();
        int32_t parts = (int32_t)(1 + tap_rand() % 128);
        int32_t theirs = rd_kafka_msg_partitioner_murmur2_random(NULL, key, len, parts, NULL, NULL);
        agree &= (int32_t)weir_partition_for_key(key, len, (uint32_t)parts) == theirs;
        checked++;
    }
    ok(agree, "same partition as librdkafka's murmur2_random for %d random keys", checked);
    is_int(weir_partition_for_key("21", 2, 100), (int)((uint32_t)-973932308 & 0x7fffffff) % 100,
           "partition = (murmur2 & 0x7fffffff) %% n");
    return done();
}
