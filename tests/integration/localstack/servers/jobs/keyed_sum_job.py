"""A PyFlink job with keyed state: per-key running sums, collected back to the client.

Used by the smoke test to prove that the standalone cluster runs Python keyed state end to end.
"""

import sys

from pyflink.common import Types
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.datastream.functions import KeyedProcessFunction, RuntimeContext
from pyflink.datastream.state import ValueStateDescriptor


class RunningSum(KeyedProcessFunction):
    def open(self, runtime_context: RuntimeContext) -> None:
        self.total = runtime_context.get_state(ValueStateDescriptor("total", Types.LONG()))

    def process_element(self, value, ctx):
        total = (self.total.value() or 0) + value[1]
        self.total.update(total)
        yield value[0], total


def main(n: int) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    records = [(f"k{i % 7}", i) for i in range(n)]
    stream = env.from_collection(records, type_info=Types.TUPLE([Types.STRING(), Types.LONG()]))
    sums = (
        stream.key_by(lambda r: r[0], key_type=Types.STRING())
        .process(RunningSum(), output_type=Types.TUPLE([Types.STRING(), Types.LONG()]))
        .name("running-sum-per-key")
    )
    final: dict[str, int] = {}
    with sums.execute_and_collect("hindsight-smoke-keyed-sum") as results:
        for key, total in results:
            final[key] = max(final.get(key, 0), total)
    for key in sorted(final):
        print(f"RESULT {key} {final[key]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
