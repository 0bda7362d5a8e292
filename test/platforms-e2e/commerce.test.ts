import { describeGroup } from './group.ts';

describeGroup('commerce');
