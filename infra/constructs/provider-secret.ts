/**
 * The provider credentials: one JSON object {"NAME": "value"} for every `${NAME}` of the config
 * file. The stack never sets the value (it starts as a generated placeholder); operators put it
 * (docs/deploy-aws.md step 4). Retained when the stack is deleted: credentials issued by a list
 * manager are not always easy to get again.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { pinLogicalId } from '../stable-logical-ids.ts';

class ProviderSecret extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.secret = new Secret(this, 'Secret', {
      description:
        'pmta-bounce provider credentials: JSON object {"NAME": "value"} for each ${NAME} in the config',
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: 'unset',
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    pinLogicalId(this.secret, 'providerSecret');
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Holds API keys issued by third-party list managers (MailWizz, Interspire, webhooks); they ' +
        'can only be rotated in those products, by an operator, so no rotation Lambda can exist.',
    });
  }
}

export { ProviderSecret };
