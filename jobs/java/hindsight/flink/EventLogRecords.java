package hindsight.flink;

import java.nio.charset.StandardCharsets;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.kafka.shaded.org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.flink.kafka.shaded.org.apache.kafka.common.header.Header;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/**
 * The event log's records as Rows (value, topic, partition, offset, position, mark): the
 * event's bytes untouched (the Python validator parses them once), where they came from (a
 * dead letter names it), and the global position the relay put in the record's headers.
 *
 * <p>Why the position: it is the job's watermark ({@link PositionWatermarks}). The relay's
 * position marks ({@code mark} true, header {@code hindsight-mark}) pass through here so the
 * watermark sees them; {@link EventsOnly} drops them right behind the source.
 */
public final class EventLogRecords implements KafkaRecordDeserializationSchema<Row> {
    private static final long serialVersionUID = 1L;

    public static final String POSITION_HEADER = "position";
    public static final String MARK_HEADER = "hindsight-mark";
    public static final long NO_POSITION = -1L;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Row> out) {
        Header position = record.headers().lastHeader(POSITION_HEADER);
        boolean mark = record.headers().lastHeader(MARK_HEADER) != null;
        out.collect(
                Row.of(
                        record.value(),
                        record.topic(),
                        record.partition(),
                        record.offset(),
                        position == null ? NO_POSITION : parse(position.value()),
                        mark));
    }

    private static long parse(byte[] value) {
        try {
            return Long.parseLong(new String(value, StandardCharsets.UTF_8).trim());
        } catch (NumberFormatException | NullPointerException e) {
            return NO_POSITION; // not the relay's: the validator judges the event itself
        }
    }

    @Override
    public TypeInformation<Row> getProducedType() {
        return Types.ROW(
                Types.PRIMITIVE_ARRAY(Types.BYTE),
                Types.STRING,
                Types.INT,
                Types.LONG,
                Types.LONG,
                Types.BOOLEAN);
    }
}
