package hindsight.flink;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.types.Row;

/**
 * The projection job's watermark is a log position, not a time: per Kafka partition, the
 * highest position read so far (the relay writes positions in order on each partition, and a
 * position mark of N after every event up to N). Flink takes the minimum over partitions and
 * over every operator's inputs, so the watermark W that reaches the end of the dataflow means
 * "every event up to position W has been folded, and its changes were emitted before this
 * watermark". {@link PositionMarks} writes it into the sink topics: read-your-writes.
 *
 * <p>Record timestamps stay the Kafka record time (the event's recorded_at): freshness is
 * measured from them. The job has no event-time windows or timers for a position watermark to
 * confuse; one that adds them must give them another clock.
 */
public final class PositionWatermarks implements WatermarkGenerator<Row> {
    private static final int POSITION_FIELD = 4;

    private long highest = Long.MIN_VALUE;

    /** Per split (Kafka partition) when given to {@code fromSource}; Kafka's record time kept. */
    public static WatermarkStrategy<Row> strategy() {
        return WatermarkStrategy.forGenerator(context -> new PositionWatermarks());
    }

    @Override
    public void onEvent(Row record, long eventTimestamp, WatermarkOutput output) {
        Object position = record.getField(POSITION_FIELD);
        if (position instanceof Long && (Long) position > highest) {
            highest = (Long) position;
        }
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
        if (highest > 0) {
            output.emitWatermark(new Watermark(highest));
        }
    }
}
