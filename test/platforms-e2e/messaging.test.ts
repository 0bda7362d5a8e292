import { describeGroup } from './group.ts';

describeGroup('messaging');
