/**
 * What pmta-shipper may do: sqs:SendMessage on the records queue, nothing else. One managed policy,
 * attached to an EC2 role with its instance profile (PowerMTA on EC2), and attachable to an IAM
 * Roles Anywhere role or any role of the operator's (docs/deploy-aws.md step 7). An IAM user with
 * long-lived access keys exists only when `aws.shipperUser` asks for it.
 */
import {
  Effect,
  InstanceProfile,
  ManagedPolicy,
  PolicyStatement,
  Role,
  ServicePrincipal,
  User,
} from 'aws-cdk-lib/aws-iam';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { pinLogicalId } from '../stable-logical-ids.ts';

interface ShipperIdentityProps {
  recordsQueue: IQueue;
  /** Also create an IAM user (config `aws.shipperUser`). */
  user: boolean;
}

class ShipperIdentity extends Construct {
  readonly policy: ManagedPolicy;
  readonly role: Role;
  readonly instanceProfile: InstanceProfile;
  readonly user: User | undefined;

  constructor(scope: Construct, id: string, props: ShipperIdentityProps) {
    super(scope, id);
    this.policy = new ManagedPolicy(this, 'Policy', {
      description: 'pmta-shipper: send accounting records to the records queue, nothing else',
      statements: [
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['sqs:SendMessage'],
          resources: [props.recordsQueue.queueArn],
        }),
      ],
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('ec2.amazonaws.com'),
      description: 'pmta-shipper on an EC2 PowerMTA host (instance profile)',
      managedPolicies: [this.policy],
    });
    this.instanceProfile = new InstanceProfile(this, 'InstanceProfile', { role: this.role });
    pinLogicalId(this.policy, 'shipperPolicy');
    pinLogicalId(this.role, 'shipperRole');
    pinLogicalId(this.instanceProfile, 'shipperInstanceProfile');
    if (props.user) {
      this.user = new User(this, 'User', { managedPolicies: [this.policy] });
      pinLogicalId(this.user, 'shipperUser');
    }
  }
}

export type { ShipperIdentityProps };
export { ShipperIdentity };
