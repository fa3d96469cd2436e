"""hello: a REST API with two public routes (GET /hello, GET /items/{id}) and a function for
each that answers without any AWS call: the floor of `stagewise dev`'s gateway → worker path."""

from __future__ import annotations

from troposphere import Template, apigateway

from stagewise.stacks import StackContext
from stagewise.stacks.api import add_resources, add_route, publish_api
from stagewise.stacks.authorization import Public

SECRETS: tuple[str, ...] = ()
ROUTES = {"hello": ("Hello", "hello_fn.handler.hello"), "items/{id}": ("Item", "hello_fn.handler.item")}


def build(ctx: StackContext) -> Template:
    template = Template(Description=f"{ctx.stack_name}: two public routes with no AWS call")
    api = template.add_resource(apigateway.RestApi(
        "RestApi", Name=ctx.name("api"), EndpointConfiguration=apigateway.EndpointConfiguration(Types=["REGIONAL"])))
    resources = add_resources(template, api=api, paths=ROUTES)
    for path, (logical_id, handler) in ROUTES.items():
        function = ctx.function(template, logical_id, handler=handler, description=f"GET /{path}")
        add_route(template, api=api, resource=resources[path], path=path, http_method="GET", function=function,
                  authorization=Public())
    publish_api(ctx, template, api)
    return template
