package hindsight.flink;

import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/**
 * Drops the relay's position marks (they have moved the watermark already, in the source)
 * and hands the validator (value, topic, partition, offset): the fields it reads, so the
 * Python/JVM crossing converts no more than it needs.
 */
public final class EventsOnly implements FlatMapFunction<Row, Row>, ResultTypeQueryable<Row> {
    private static final long serialVersionUID = 1L;

    @Override
    public void flatMap(Row record, Collector<Row> out) {
        if (Boolean.TRUE.equals(record.getField(5))) {
            return;
        }
        out.collect(Row.of(record.getField(0), record.getField(1), record.getField(2), record.getField(3)));
    }

    @Override
    public TypeInformation<Row> getProducedType() {
        return Types.ROW(Types.PRIMITIVE_ARRAY(Types.BYTE), Types.STRING, Types.INT, Types.LONG);
    }
}
