// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are Fn::Sub templates, whose ${…} CloudFormation substitutes
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { MicroBatchPipeline } from '../../lib/micro-batch-pipeline';
import {
  addReferenceCycleCheck,
  describeCycle,
  findReferenceCycles,
  type TemplateResources,
} from '../../lib/reference-cycles';
import { pipelineProps } from './pipeline-fixtures';

/** A resource of a dummy type whose properties are `properties`. */
function resource(properties: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return { Type: 'Test::Dummy::Thing', Properties: properties, ...extra };
}

/** Each cycle as the logical IDs on it, in order. */
function cyclesOf(template: TemplateResources): string[][] {
  return findReferenceCycles(template).map((cycle) => cycle.map((r) => r.from));
}

describe('findReferenceCycles', () => {
  test('finds the alias → deployment group → alarm → alias cycle and says where each reference is', () => {
    // given: the shape aws-cdk#2231 produced, and this project's alarms once did
    const template = {
      Resources: {
        Alias: resource(
          { FunctionName: { Ref: 'Function' } },
          {
            UpdatePolicy: {
              CodeDeployLambdaAliasUpdate: {
                ApplicationName: { Ref: 'Application' },
                DeploymentGroupName: { Ref: 'Deployment' },
              },
            },
          },
        ),
        Application: resource(),
        Deployment: resource({ AlarmConfiguration: { Alarms: [{ Name: { Ref: 'Alarm' } }] } }),
        Alarm: resource({
          AlarmDescription: { 'Fn::Join': ['', ['lag of ', { Ref: 'Alias' }]] },
        }),
        Function: resource(),
      },
    };
    // when
    const cycles = findReferenceCycles(template);
    // then
    expect(cycles.map(describeCycle)).toStrictEqual([
      'Alarm → Alias → Deployment → Alarm (' +
        'Alarm refers to Alias at Properties.AlarmDescription.Fn::Join[1][1] (Ref); ' +
        'Alias refers to Deployment at UpdatePolicy.CodeDeployLambdaAliasUpdate.DeploymentGroupName (Ref); ' +
        'Deployment refers to Alarm at Properties.AlarmConfiguration.Alarms[0].Name (Ref))',
    ]);
  });

  test('finds nothing in a DAG with shared dependencies', () => {
    // given: a diamond, every kind of reference, and references to parameters and pseudo parameters
    const template = {
      Resources: {
        Top: resource({ A: { Ref: 'Left' }, B: { 'Fn::GetAtt': ['Right', 'Arn'] } }),
        Left: resource({ A: { 'Fn::Sub': '${Bottom.Arn}/${AWS::Region}/${!Literal}/${Param}' } }),
        Right: resource({ A: { Ref: 'AWS::StackName' } }, { DependsOn: ['Bottom', 'Left'] }),
        Bottom: resource({ A: { Ref: 'Param' } }),
      },
    };
    // when / then
    expect(findReferenceCycles(template)).toStrictEqual([]);
  });

  test('finds a resource that refers to itself', () => {
    // given
    const template = { Resources: { Queue: resource({ Policy: { 'Fn::GetAtt': 'Queue.Arn' } }) } };
    // when / then
    expect(cyclesOf(template)).toStrictEqual([['Queue']]);
  });

  test.each([
    ['Fn::GetAtt as a list', { 'Fn::GetAtt': ['B', 'Arn'] }],
    ['Fn::GetAtt as a string', { 'Fn::GetAtt': 'B.Arn' }],
    ['Fn::Sub with a resource', { 'Fn::Sub': 'arn:${B}' }],
    ['Fn::Sub with an attribute', { 'Fn::Sub': 'arn:${B.Arn}' }],
    ['Fn::Sub variables', { 'Fn::Sub': ['arn:${X}', { X: { Ref: 'B' } }] }],
  ])('follows %s', (_kind, reference) => {
    // given
    const template = {
      Resources: { A: resource({ P: reference }), B: resource({ P: { Ref: 'A' } }) },
    };
    // when / then
    expect(cyclesOf(template)).toStrictEqual([['A', 'B']]);
  });

  test.each([
    ['a string', 'B'],
    ['a list', ['C', 'B']],
  ])('follows DependsOn as %s', (_kind, dependsOn) => {
    // given
    const template = {
      Resources: {
        A: resource({}, { DependsOn: dependsOn }),
        B: resource({ P: { Ref: 'A' } }),
        C: resource(),
      },
    };
    // when / then
    expect(cyclesOf(template)).toStrictEqual([['A', 'B']]);
  });

  test('ignores ${!Literal} and Fn::Sub variables that shadow a resource name', () => {
    // given
    const template = {
      Resources: {
        A: resource({ P: { 'Fn::Sub': ['${!B} ${B}', { B: 'not the resource' }] } }),
        B: resource({ P: { Ref: 'A' } }),
      },
    };
    // when / then
    expect(findReferenceCycles(template)).toStrictEqual([]);
  });

  test('reports each cycle of a template once, however many resources are on it', () => {
    // given: two separate cycles, one of four resources with a chord
    const template = {
      Resources: {
        A: resource({ P: { Ref: 'B' } }),
        B: resource({ P: { Ref: 'C' }, Q: { Ref: 'A' } }),
        C: resource({ P: { Ref: 'D' } }),
        D: resource({ P: { Ref: 'A' } }),
        X: resource({ P: { Ref: 'Y' } }),
        Y: resource({ P: { Ref: 'X' } }),
      },
    };
    // when / then
    expect(cyclesOf(template)).toStrictEqual([
      ['A', 'B'],
      ['X', 'Y'],
    ]);
  });
});

describe('addReferenceCycleCheck', () => {
  test('fails synthesis naming the resources on the cycle', () => {
    // given
    const app = new App();
    const stack = new Stack(app, 'CycleStack');
    const a = new CfnResource(stack, 'A', { type: 'Test::Dummy::Thing' });
    const b = new CfnResource(stack, 'B', { type: 'Test::Dummy::Thing' });
    a.addPropertyOverride('P', b.ref);
    b.addResourceDependency(a);
    addReferenceCycleCheck(stack);
    addReferenceCycleCheck(stack);
    // when / then
    expect(() => app.synth()).toThrow(
      /^Validation failed with the following errors:\n {2}\[CycleStack\] CloudFormation would refuse this stack: its resources refer to each other in a cycle: A → B → A \(A refers to B at Properties.P \(Ref\); B refers to A at DependsOn\)$/,
    );
  });

  test('lets a stack without cycles synthesize', () => {
    // given
    const app = new App();
    const stack = new Stack(app, 'DagStack');
    const a = new CfnResource(stack, 'A', { type: 'Test::Dummy::Thing' });
    new CfnResource(stack, 'B', { type: 'Test::Dummy::Thing', properties: { P: a.ref } });
    addReferenceCycleCheck(stack);
    // when / then
    expect(() => app.synth()).not.toThrow();
  });

  test('is added by MicroBatchPipeline to its stack', () => {
    // given: a pipeline, and two resources of the user's that refer to each other
    const app = new App();
    const stack = new Stack(app, 'UserStack');
    new MicroBatchPipeline(stack, 'Test', pipelineProps());
    const a = new CfnResource(stack, 'A', { type: 'Test::Dummy::Thing' });
    const b = new CfnResource(stack, 'B', { type: 'Test::Dummy::Thing', properties: { P: a.ref } });
    a.addPropertyOverride('P', b.ref);
    // when / then
    expect(() => app.synth()).toThrow(/its resources refer to each other in a cycle: A → B → A/);
  });
});
