"""web: a published REST API, GET /hello → a function answering which stage it runs in."""

from troposphere import Template, apigateway

from stagewise.stacks.api import Public, add_resources, add_route, publish_api


def build(ctx):
    t = Template()
    api = t.add_resource(apigateway.RestApi(
        "Api", Name=ctx.name("web"), EndpointConfiguration=apigateway.EndpointConfiguration(Types=["REGIONAL"])))
    function = ctx.function(t, "Greet", handler="web_pkg.handler.main")  # api has a "Hello"
    resources = add_resources(t, api=api, paths=["hello"])
    add_route(t, api=api, resource=resources["hello"], path="hello", http_method="GET", function=function,
              authorization=Public())
    publish_api(ctx, t, api)
    return t
