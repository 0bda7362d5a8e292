import { describeGroup } from './group.ts';

describeGroup('work');
