"""A realistic two-stack fixture shaped like the app: an infra stack and an API stack that imports it.

infra: DynamoDB table (retained), S3 bucket with CORS (retained), Cognito user pool + client,
identity pool + authenticated role + role attachment, exports for all of them.
api:   RestApi, Cognito authorizer on the imported pool ARN, /notes and /notes/{id} with
AWS_PROXY methods to functions, a MOCK OPTIONS method, deployment, stage, permissions.
"""

from __future__ import annotations

from typing import Any

STAGE = "dev"
INFRA = "dev-notes-infra"
API = "dev-notes-notes-api"


def _export(name: str, value: Any) -> dict[str, Any]:
    return {"Value": value, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-" + name}}}


def infra_template() -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"Stage": {"Type": "String", "Default": STAGE}},
        "Resources": {
            "NotesTable": {
                "Type": "AWS::DynamoDB::Table",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "TableName": {"Fn::Sub": "${Stage}-notes-notes"},
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [
                        {"AttributeName": "userId", "AttributeType": "S"},
                        {"AttributeName": "noteId", "AttributeType": "S"},
                    ],
                    "KeySchema": [
                        {"AttributeName": "userId", "KeyType": "HASH"},
                        {"AttributeName": "noteId", "KeyType": "RANGE"},
                    ],
                },
            },
            "UploadsBucket": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Retain",
                "Properties": {
                    "CorsConfiguration": {
                        "CorsRules": [
                            {
                                "AllowedHeaders": ["*"],
                                "AllowedMethods": ["GET", "PUT", "POST", "DELETE", "HEAD"],
                                "AllowedOrigins": ["*"],
                                "MaxAge": 3000,
                            }
                        ]
                    }
                },
            },
            "UserPool": {
                "Type": "AWS::Cognito::UserPool",
                "Properties": {
                    "UserPoolName": {"Fn::Sub": "${Stage}-notes-user-pool"},
                    "UsernameAttributes": ["email"],
                    "AutoVerifiedAttributes": ["email"],
                },
            },
            "UserPoolClient": {
                "Type": "AWS::Cognito::UserPoolClient",
                "Properties": {
                    "ClientName": {"Fn::Sub": "${Stage}-notes-client"},
                    "UserPoolId": {"Ref": "UserPool"},
                    "GenerateSecret": False,
                    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                },
            },
            "IdentityPool": {
                "Type": "AWS::Cognito::IdentityPool",
                "Properties": {
                    "IdentityPoolName": {"Fn::Sub": "${Stage}_notes_identity"},
                    "AllowUnauthenticatedIdentities": False,
                    "CognitoIdentityProviders": [
                        {
                            "ClientId": {"Ref": "UserPoolClient"},
                            "ProviderName": {"Fn::GetAtt": ["UserPool", "ProviderName"]},
                        }
                    ],
                },
            },
            "AuthRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                                "Action": "sts:AssumeRoleWithWebIdentity",
                                "Condition": {
                                    "StringEquals": {
                                        "cognito-identity.amazonaws.com:aud": {"Ref": "IdentityPool"}
                                    }
                                },
                            }
                        ],
                    },
                    "Policies": [
                        {
                            "PolicyName": "uploads",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {
                                        "Effect": "Allow",
                                        "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                                        "Resource": {
                                            "Fn::Sub": "${UploadsBucket.Arn}/private/"
                                            "${!cognito-identity.amazonaws.com:sub}/*"
                                        },
                                    }
                                ],
                            },
                        }
                    ],
                },
            },
            "RoleAttachment": {
                "Type": "AWS::Cognito::IdentityPoolRoleAttachment",
                "Properties": {
                    "IdentityPoolId": {"Ref": "IdentityPool"},
                    "Roles": {"authenticated": {"Fn::GetAtt": ["AuthRole", "Arn"]}},
                },
            },
        },
        "Outputs": {
            "TableName": _export("TableName", {"Ref": "NotesTable"}),
            "TableArn": _export("TableArn", {"Fn::GetAtt": ["NotesTable", "Arn"]}),
            "BucketName": _export("BucketName", {"Ref": "UploadsBucket"}),
            "BucketArn": _export("BucketArn", {"Fn::GetAtt": ["UploadsBucket", "Arn"]}),
            "UserPoolId": _export("UserPoolId", {"Ref": "UserPool"}),
            "UserPoolArn": _export("UserPoolArn", {"Fn::GetAtt": ["UserPool", "Arn"]}),
            "UserPoolClientId": _export("UserPoolClientId", {"Ref": "UserPoolClient"}),
            "IdentityPoolId": _export("IdentityPoolId", {"Ref": "IdentityPool"}),
            "AuthRoleName": _export("AuthRoleName", {"Ref": "AuthRole"}),
        },
    }


def _imported(name: str) -> dict[str, Any]:
    return {"Fn::ImportValue": f"{INFRA}-{name}"}


LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def _function(handler: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Metadata": {"stagewise": {"service": "notes-api", "source": "services/notes-api"}},
        "Properties": {
            "Handler": handler,
            "Runtime": "python3.12",
            "Role": {"Fn::GetAtt": ["FunctionRole", "Arn"]},
            "Code": {"S3Bucket": "artifacts", "S3Key": "notes-api/abc123.zip"},
            "Timeout": 6,
            "MemorySize": 256,
            "TracingConfig": {"Mode": "Active"},
            "Environment": {
                "Variables": {
                    "TABLE_NAME": _imported("TableName"),
                    "STAGE": STAGE,
                    "POWERTOOLS_SERVICE_NAME": "notes-api",
                }
            },
        },
    }


def _proxy_method(http_method: str, resource: str, function: str) -> dict[str, Any]:
    return {
        "Type": "AWS::ApiGateway::Method",
        "Properties": {
            "RestApiId": {"Ref": "RestApi"},
            "ResourceId": {"Ref": resource},
            "HttpMethod": http_method,
            "AuthorizationType": "COGNITO_USER_POOLS",
            "AuthorizerId": {"Ref": "Authorizer"},
            "Integration": {
                "Type": "AWS_PROXY",
                "IntegrationHttpMethod": "POST",
                "Uri": {
                    "Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                    f"${{{function}.Arn}}/invocations"
                },
            },
        },
    }


def _permission(function: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "FunctionName": {"Ref": function},
            "Action": "lambda:InvokeFunction",
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": {"Fn::Sub": "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${RestApi}/*"},
        },
    }


def api_template() -> dict[str, Any]:
    options = {
        "Type": "AWS::ApiGateway::Method",
        "Properties": {
            "RestApiId": {"Ref": "RestApi"},
            "ResourceId": {"Ref": "NotesResource"},
            "HttpMethod": "OPTIONS",
            "AuthorizationType": "NONE",
            "Integration": {
                "Type": "MOCK",
                "RequestTemplates": {"application/json": '{"statusCode": 200}'},
                "IntegrationResponses": [
                    {
                        "StatusCode": "200",
                        "ResponseParameters": {"method.response.header.Access-Control-Allow-Origin": "'*'"},
                    }
                ],
            },
            "MethodResponses": [
                {
                    "StatusCode": "200",
                    "ResponseParameters": {"method.response.header.Access-Control-Allow-Origin": True},
                }
            ],
        },
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "RestApi": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": f"{STAGE}-notes-api"}},
            "Authorizer": {
                "Type": "AWS::ApiGateway::Authorizer",
                "Properties": {
                    "Name": "cognito",
                    "RestApiId": {"Ref": "RestApi"},
                    "Type": "COGNITO_USER_POOLS",
                    "ProviderARNs": [_imported("UserPoolArn")],
                    "IdentitySource": "method.request.header.Authorization",
                },
            },
            "FunctionRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": LAMBDA_TRUST,
                    "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
                    "Policies": [
                        {
                            "PolicyName": "table",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {
                                        "Effect": "Allow",
                                        "Action": "dynamodb:*",
                                        "Resource": _imported("TableArn"),
                                    }
                                ],
                            },
                        }
                    ],
                },
            },
            "ListFunction": _function("notes_api.list.handler"),
            "GetFunction": _function("notes_api.get.handler"),
            "NotesResource": {
                "Type": "AWS::ApiGateway::Resource",
                "Properties": {
                    "RestApiId": {"Ref": "RestApi"},
                    "ParentId": {"Fn::GetAtt": ["RestApi", "RootResourceId"]},
                    "PathPart": "notes",
                },
            },
            "NoteResource": {
                "Type": "AWS::ApiGateway::Resource",
                "Properties": {
                    "RestApiId": {"Ref": "RestApi"},
                    "ParentId": {"Ref": "NotesResource"},
                    "PathPart": "{id}",
                },
            },
            "ListMethod": _proxy_method("GET", "NotesResource", "ListFunction"),
            "GetMethod": _proxy_method("GET", "NoteResource", "GetFunction"),
            "NotesOptions": options,
            "Deployment": {
                "Type": "AWS::ApiGateway::Deployment",
                "DependsOn": ["ListMethod", "GetMethod", "NotesOptions"],
                "Properties": {"RestApiId": {"Ref": "RestApi"}},
            },
            "Stage": {
                "Type": "AWS::ApiGateway::Stage",
                "Properties": {
                    "RestApiId": {"Ref": "RestApi"},
                    "DeploymentId": {"Ref": "Deployment"},
                    "StageName": STAGE,
                    "TracingEnabled": True,
                },
            },
            "Unauthorized": {
                "Type": "AWS::ApiGateway::GatewayResponse",
                "Properties": {
                    "RestApiId": {"Ref": "RestApi"},
                    "ResponseType": "UNAUTHORIZED",
                    "StatusCode": "401",
                    "ResponseParameters": {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
                },
            },
            "ListPermission": _permission("ListFunction"),
            "GetPermission": _permission("GetFunction"),
        },
        "Outputs": {
            "RestApiId": _export("RestApiId", {"Ref": "RestApi"}),
            "RootResourceId": _export("RootResourceId", {"Fn::GetAtt": ["RestApi", "RootResourceId"]}),
            "ApiUrl": {
                "Value": {"Fn::Sub": "https://${RestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/dev"}
            },
        },
    }
