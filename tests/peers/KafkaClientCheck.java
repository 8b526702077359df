/*
 * KafkaClientCheck.java - the Java reference client (org.apache.kafka:kafka-clients,
 * from tests/peers/pom.xml) against a Kafka protocol server: a producer with the
 * client's defaults (idempotent, acks=all) and zstd sends N keyed records to topic
 * "events", a consumer of group "java-group" subscribes and reads them back and
 * commits, and the Admin client lists the topics and the group's committed
 * offsets. Prints "acked N", "consumed N", "topics [...]", "committed N" for the
 * test (tests/integration/kafka_java.sh) to check. Run by java's source launcher:
 *   java -cp 'JARS/*' tests/peers/KafkaClientCheck.java HOST:PORT N
 */
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.serialization.*;

public class KafkaClientCheck {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        int n = Integer.parseInt(args[1]);
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("acks", "all");
        p.put("compression.type", "zstd");
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            List<java.util.concurrent.Future<RecordMetadata>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++)
                fs.add(producer.send(new ProducerRecord<>("events", "java" + i, "{\"id\": " + i + ", \"name\": \"java\"}")));
            int acked = 0;
            for (var f : fs) if (f.get().offset() >= 0) acked++;
            System.out.println("acked " + acked);
        }
        Properties c = new Properties();
        c.put("bootstrap.servers", bootstrap);
        c.put("group.id", "java-group");
        c.put("auto.offset.reset", "earliest");
        c.put("enable.auto.commit", "false");
        c.put("key.deserializer", StringDeserializer.class.getName());
        c.put("value.deserializer", StringDeserializer.class.getName());
        int got = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
            consumer.subscribe(List.of("events"));
            long until = System.currentTimeMillis() + 60000;
            while (got < n && System.currentTimeMillis() < until)
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500)))
                    if (r.key() != null && r.key().startsWith("java")) got++;
            consumer.commitSync();
        }
        System.out.println("consumed " + got);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            System.out.println("topics " + new TreeSet<>(admin.listTopics().names().get()));
            var offsets = admin.listConsumerGroupOffsets("java-group").partitionsToOffsetAndMetadata().get();
            long sum = 0;
            for (var e : offsets.values()) sum += e.offset();
            System.out.println("committed " + sum);
        }
    }
}
