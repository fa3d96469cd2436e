"""resources.base helpers shared by the resource types: PutResource, SNS/SQS string attributes, FIFO names."""

from __future__ import annotations

from typing import Any

from stagewise.provisioner.resources.base import (
    PutResource,
    ResourceContext,
    attribute_text,
    fifo_name,
    is_true,
    string_attributes,
)
from stagewise.provisioner.state import ResourceState


def _ctx(stack: str = "dev-notes-billing", logical_id: str = "Outbox") -> ResourceContext:
    return ResourceContext(client=lambda service: None, account_id="111111111111", region="us-east-1",
                           stack_name=stack, logical_id=logical_id)


class Recorder(PutResource):
    type_name = "Test::Put"

    def __init__(self, ctx: ResourceContext) -> None:
        super().__init__(ctx)
        self.puts: list[dict[str, Any]] = []

    def put(self, props: dict[str, Any]) -> None:
        self.puts.append(props)

    def delete(self, current: ResourceState) -> None:
        self.puts.clear()


def test_put_resource_creates_with_a_generated_name_and_keeps_it_on_update():
    resource = Recorder(_ctx())
    created = resource.create({"A": 1})
    assert created.physical_id.startswith("dev-notes-billing-Outbox-")
    current = ResourceState(logical_id="Outbox", type="Test::Put", physical_id=created.physical_id, properties={"A": 1})
    updated = resource.update(current, {"A": 2})
    assert updated.physical_id == created.physical_id
    assert resource.puts == [{"A": 1}, {"A": 2}]


def test_attribute_text_and_string_attributes():
    assert [attribute_text(v) for v in (True, False, 30, "x", {"a": 1}, [1])] == [
        "true", "false", "30", "x", '{"a": 1}', "[1]"]
    assert string_attributes({"A": True, "B": 5, "Other": 1}, ("A", "B", "C")) == {"A": "true", "B": "5"}


def test_is_true_takes_bools_and_text():
    assert [is_true(v) for v in (True, "true", "TRUE", False, "false", None)] == [True, True, True, False, False, False]


def test_fifo_name_keeps_a_given_name_and_makes_room_for_the_suffix():
    ctx = _ctx(stack="s" * 100)
    assert fifo_name(ctx, "orders", fifo=False, max_length=80) == "orders"
    assert fifo_name(ctx, "orders", fifo=True, max_length=80) == "orders.fifo"
    assert fifo_name(ctx, "orders.fifo", fifo=True, max_length=80) == "orders.fifo"
    generated = fifo_name(ctx, None, fifo=True, max_length=80)
    assert len(generated) == 80 and generated.endswith(".fifo")
    assert len(fifo_name(ctx, None, fifo=False, max_length=80)) == 80
