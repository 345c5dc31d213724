// MirrorMaker 2's own client reading checkpoints, for the groups test: for each group, what
// RemoteClusterUtils.translateOffsets answers from <alias>.checkpoints.internal, and every
// checkpoint record of that topic as MM2's Checkpoint decodes it.
//
//   java TranslateOffsets.java BOOTSTRAP ALIAS GROUP...
// prints `OFFSET group topic partition offset` and `CHECKPOINT <Checkpoint.toString()>` lines.

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.connect.mirror.Checkpoint;
import org.apache.kafka.connect.mirror.RemoteClusterUtils;

public class TranslateOffsets {
    public static void main(String[] args) throws Exception {
        Map<String, Object> properties = Map.of(
            "bootstrap.servers", args[0],
            "replication.policy.class", "org.apache.kafka.connect.mirror.IdentityReplicationPolicy");
        String alias = args[1];
        for (int i = 2; i < args.length; i++) {
            var offsets = RemoteClusterUtils.translateOffsets(properties, alias, args[i], Duration.ofSeconds(20));
            for (var e : offsets.entrySet()) {
                System.out.println("OFFSET " + args[i] + " " + e.getKey().topic() + " " + e.getKey().partition() + " " + e.getValue().offset());
            }
        }
        var partition = new TopicPartition(alias + ".checkpoints.internal", 0);
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of("bootstrap.servers", args[0]),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            while (consumer.position(partition) < end) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofSeconds(5))) {
                    // Throws on bytes MM2 could not read.
                    System.out.println("CHECKPOINT " + Checkpoint.deserializeRecord(record));
                }
            }
        }
    }
}
